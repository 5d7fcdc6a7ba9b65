"""Conversions from upstream files to bundle files, byte for byte as ``SHA256SUMS`` lists them.

Every function takes bytes (or a folder of extracted archive members) and returns the bundle file's
bytes: nothing is decoded and re-encoded that the bundle keeps verbatim.
"""
