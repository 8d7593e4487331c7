#!/usr/bin/env python3
"""Writes tests/data/images/pil_values.txt: what Pillow (torchvision's ImageFolder loader)
makes of each image in tests/data/images, converted to "L" (1 channel) and "RGB" (3), as the
8-bit values torchvision's ToTensor divides by 255. test_datasets compares ImageFolder's
decoder with it. Run with a Python that has Pillow (Debian: python3-pil)."""
import os

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "..", "data", "images")

with open(os.path.join(IMAGES, "pil_values.txt"), "w") as out:
    out.write("# file channels height width values (planar: channel, row, column), from Pillow "
              + Image.__version__ + "\n")
    for name in sorted(os.listdir(IMAGES)):
        if not name.endswith((".png", ".jpg", ".bmp")) or name.startswith(("bomb", "bmp_unknown", "jpeg_undefined", "cmyk")):  # refused by design
            continue
        for mode, channels in (("L", 1), ("RGB", 3)):
            img = Image.open(os.path.join(IMAGES, name)).convert(mode)
            w, h = img.size
            px = list(img.getdata())
            planes = [[p if channels == 1 else p[c] for p in px] for c in range(channels)]
            values = [v for plane in planes for v in plane]
            out.write(f"{name} {channels} {h} {w} " + " ".join(map(str, values)) + "\n")
