"""The pure core: typed values in, typed values out; no file, network, CLI or web access."""
