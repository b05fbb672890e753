#!/usr/bin/env python3
"""Shrinks the screenshots the browser test wrote: 64-colour palette PNG, no dithering
(flat UI colours survive it). Usage: tests/browser/shrink-png.py docs/screenshots/*.png"""
import os
import sys

from PIL import Image

for path in sys.argv[1:]:
    before = os.path.getsize(path)
    image = Image.open(path).convert("RGB")
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"{path}: {before} -> {os.path.getsize(path)} bytes")
