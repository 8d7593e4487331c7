#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (corpus/<target>/): small valid files of each
format, plus the hostile inputs the readers' regression tests cover. Standard library only,
except the JPEG seeds, which need Pillow (they are skipped without it)."""
import gzip
import io
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def safetensors(entries, metadata=True):
    """entries: list of (name, dtype, shape, raw bytes); offsets tile the data in order."""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = {"format": "pt"}
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def floats(n, fmt="<f"):
    return b"".join(struct.pack(fmt, 0.25 * i) for i in range(n))


def idx(dims, values):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(values)


# JSON headers.
put("fuzz_json", "object", b'{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"__metadata__":{"k":"v"}}')
put("fuzz_json", "values", b'[1, -2.5e3, true, false, null, "s\\n\\u00e9", {"x": []}]')
put("fuzz_json", "bad_unicode_escape", b'"\\uzzzz"')

# safetensors files.
put("fuzz_safetensors", "f32", safetensors([("w", "F32", [2, 3], floats(6)), ("b", "F32", [3], floats(3))]))
put("fuzz_safetensors", "f64", safetensors([("x", "F64", [2, 2], floats(4, "<d"))], metadata=False))
put("fuzz_safetensors", "zero_elements", safetensors([("x", "F32", [0], b"")]))
put("fuzz_safetensors", "shape_overflow", safetensors([("x", "F32", [4294967296, 4294967296], b"")]))
overlap = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
put("fuzz_safetensors", "overlap", struct.pack("<Q", len(overlap)) + overlap + floats(2))

put("fuzz_safetensors", "i64_count", safetensors([("n", "I64", [], struct.pack("<q", 3)),
                                                 ("w", "F32", [2], floats(2))]))

# IDX files, plain and gzip.
labels = idx([5], [0, 1, 2, 3, 9])
images = idx([2, 3, 3], range(18))
put("fuzz_idx", "labels", labels)
put("fuzz_idx", "images", images)
put("fuzz_idx", "labels.gz", gzip.compress(labels, mtime=0))
put("fuzz_idx", "images.gz", gzip.compress(images, mtime=0))
put("fuzz_idx", "bomb.gz", gzip.compress(idx([1], [0]) + bytes(1 << 16), mtime=0))

# MnistDataset: two bytes saying where the images file ends, then images and labels.
pair = images + idx([2], [3, 7])
put("fuzz_mnist", "pair", struct.pack(">H", len(images)) + pair)
gz_images = gzip.compress(images, mtime=0)
put("fuzz_mnist", "pair.gz", struct.pack(">H", len(gz_images)) + gz_images + gzip.compress(idx([2], [3, 7]), mtime=0))

# A checkpoint of fuzz_load_module's model: Conv2d(1, 2, 3), BatchNorm2d(2), ReLU, Flatten,
# Linear(8, 3); the batch norm's count is int64, as PyTorch saves it.
def model(fmt, dtype):
    return safetensors([("0.weight", dtype, [2, 1, 3, 3], floats(18, fmt)), ("0.bias", dtype, [2], floats(2, fmt)),
                        ("1.weight", dtype, [2], floats(2, fmt)), ("1.bias", dtype, [2], floats(2, fmt)),
                        ("1.running_mean", dtype, [2], floats(2, fmt)), ("1.running_var", dtype, [2], floats(2, fmt)),
                        ("1.num_batches_tracked", "I64", [], struct.pack("<q", 5)),
                        ("4.weight", dtype, [3, 8], floats(24, fmt)), ("4.bias", dtype, [3], floats(3, fmt))])


put("fuzz_load_module", "model", model("<f", "F32"))
put("fuzz_load_module", "model_f64", model("<d", "F64"))


# Images for fuzz_image: PNGs of every colour type the decoder converts, BMPs, JPEGs.
def png(width, height, colour_type, bit_depth, rows, palette=None, transparency=None, interlaced=False):
    """rows: each row's bytes as stored (packed when bit_depth < 8). interlaced: Adam7,
    for 8-bit rows of len(rows[0]) // width bytes a pixel."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    if interlaced:
        bpp = len(rows[0]) // width
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b""
        for x0, y0, dx, dy in passes:
            if x0 >= width or y0 >= height:
                continue
            for y in range(y0, height, dy):
                raw += b"\x00" + b"".join(bytes(rows[y][x * bpp:(x + 1) * bpp]) for x in range(x0, width, dx))
    else:
        raw = b"".join(b"\x00" + bytes(r) for r in rows)  # filter type 0 on every row
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0,
                                                              1 if interlaced else 0))
    if palette:
        out += chunk(b"PLTE", bytes(palette))
    if transparency:
        out += chunk(b"tRNS", bytes(transparency))
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def bmp24(width, height, pixel):
    stride = (width * 3 + 3) // 4 * 4
    rows = b"".join((b"".join(bytes(pixel(x, y)) for x in range(width))).ljust(stride, b"\x00") for y in range(height))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(rows), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
    return header + info + rows


W, H = 5, 4
put("fuzz_image", "gray.png", png(W, H, 0, 8, [[(x * 40 + y * 9) % 256 for x in range(W)] for y in range(H)]))
put("fuzz_image", "gray_alpha.png", png(W, H, 4, 8, [[v for x in range(W) for v in (x * 50, 200)] for y in range(H)]))
put("fuzz_image", "rgb.png", png(W, H, 2, 8, [[v for x in range(W) for v in (x * 50, y * 60, 90)] for y in range(H)]))
put("fuzz_image", "rgba.png", png(W, H, 6, 8, [[v for x in range(W) for v in (x * 50, y * 60, 90, 128)] for y in range(H)]))
put("fuzz_image", "palette.png", png(W, H, 3, 8, [[(x + y) % 3 for x in range(W)] for y in range(H)],
                                    palette=[255, 0, 0, 0, 255, 0, 0, 0, 255]))
put("fuzz_image", "gray16.png", png(W, H, 0, 16, [[v for x in range(W) for v in (x * 50, 7)] for y in range(H)]))
put("fuzz_image", "palette_alpha.png", png(W, H, 3, 8, [[(x + y) % 3 for x in range(W)] for y in range(H)],
                                          palette=[255, 0, 0, 0, 255, 0, 0, 0, 255], transparency=[0, 128]))
put("fuzz_image", "gray2.png", png(W, H, 0, 2, [[((x % 4) << 6 | (y % 4) << 4 | 1 << 2 | 2) for x in range(2)]
                                               for y in range(H)]))
put("fuzz_image", "interlaced.png", png(11, 9, 2, 8, [[v for x in range(11) for v in (x * 23, y * 28, (x * y) % 256)]
                                                     for y in range(9)], interlaced=True))
put("fuzz_image", "rgb.bmp", bmp24(W, H, lambda x, y: ((x * 50) % 256, (y * 60) % 256, 90)))
try:
    from PIL import Image
    for mode in ("L", "RGB"):
        img = Image.new(mode, (16, 16))
        img.putdata([((x * 16 + y) % 256) if mode == "L" else ((x * 16) % 256, (y * 16) % 256, 128)
                     for y in range(16) for x in range(16)])
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=90)
        put("fuzz_image", f"{mode.lower()}.jpg", buf.getvalue())
        if mode == "RGB":
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=80, progressive=True)
            put("fuzz_image", "progressive.jpg", buf.getvalue())
    buf = io.BytesIO()
    Image.new("CMYK", (8, 8), (10, 20, 30, 40)).save(buf, format="JPEG")  # refused: convkit reads gray and colour
    put("fuzz_image", "cmyk.jpg", buf.getvalue())
except ImportError:
    print("Pillow not found: the JPEG seeds of fuzz_image are not written")
