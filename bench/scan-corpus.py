#!/usr/bin/env python3
"""Deterministic scanning corpus and ClamAV-format signatures for bench/scan-clamav and
bench/scan-yara (a helper, not a benchmark of its own).

    scan-corpus.py OUT_DIR SIZE_MB

writes OUT_DIR/corpus/ (text, HTML, PDF with deflated streams, zip and tar.gz archives,
binaries, a few EICARs) of about SIZE_MB megabytes, and OUT_DIR/db/ with bench.hdb (MD5),
bench.hsb (SHA-256), bench.ndb (body patterns with wildcards and jumps) and bench.ldb
(logical, hex subsignatures). A few corpus files carry planted signatures, so that both
scanners must find the same ones; OUT_DIR/expected holds their count.
Same arguments, same bytes: every random choice comes from one seeded generator."""

import gzip
import hashlib
import io
import os
import random
import sys
import tarfile
import zipfile
import zlib

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
WORDS = (
    "the of and to in is that for it as with was on be by this are from at or have an they which "
    "one you were all we her she there would their will when who him been has more if no out do "
    "so can what up said about other into than its time only could new them man some these then "
    "two first may any like now my such make over our even most me state after also made many "
    "access denied proxy request server client error warning info debug user session login "
    "住民 情報 システム 役所 申請 窓口 確認 個人 番号 管理 対応 更新 セキュリティ 接続 端末"
).split()

r = random.Random(20261122)


def text(size):
    out, n = [], 0
    while n < size:
        line = " ".join(r.choices(WORDS, k=r.randint(6, 20))) + "\n"
        out.append(line)
        n += len(line.encode())
    return "".join(out).encode()[:size]


def log(size):
    out, n = [], 0
    while n < size:
        line = "2026-11-%02d %02d:%02d:%02d 10.%d.%d.%d GET http://%s.example.jp/%s 200 %d\n" % (
            r.randint(1, 28), r.randint(0, 23), r.randint(0, 59), r.randint(0, 59),
            r.randint(0, 255), r.randint(0, 255), r.randint(1, 254),
            r.choice(WORDS[:60]), "/".join(r.choices(WORDS[:60], k=3)), r.randint(100, 90000))
        out.append(line)
        n += len(line)
    return "".join(out).encode()[:size]


def html(size):
    body = []
    n = 0
    while n < size:
        part = "<div class=\"c%d\"><p>%s</p><a href=\"/%s\">%s</a></div>\n" % (
            r.randint(0, 99), text(r.randint(200, 2000)).decode(errors="ignore"),
            r.choice(WORDS[:60]), r.choice(WORDS))
        if r.random() < 0.1:
            part += "<script>var x%d = \"%s\"; document.write(x%d);</script>\n" % (n, r.randbytes(30).hex(), n)
        body.append(part)
        n += len(part.encode())
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>bench</title></head><body>\n"
            + "".join(body) + "</body></html>\n").encode()


def pdf(size):
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    obj = 1
    while out.tell() < size:
        raw = text(r.randint(4000, 60000))
        stream = zlib.compress(raw, 6)
        out.write(b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (obj, len(stream)))
        out.write(stream + b"\nendstream\nendobj\n")
        obj += 1
    out.write(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
    return out.getvalue()


def binary(size):
    # A PE-like or ELF-like header, then runs of random bytes, zeros and repeated tables,
    # as compiled code and data look more like than pure noise.
    head = b"MZ" + bytes(58) + b"\x80\x00\x00\x00" if r.random() < 0.5 else b"\x7fELF\x02\x01\x01" + bytes(9)
    out = bytearray(head)
    while len(out) < size:
        kind = r.random()
        n = r.randint(256, 65536)
        if kind < 0.5:
            out += r.randbytes(n)
        elif kind < 0.7:
            out += bytes(n)
        else:
            out += r.randbytes(r.randint(16, 256)) * (n // 128 + 1)
    return bytes(out[:size])


def member(kind, size):
    return {"txt": text, "log": log, "html": html, "bin": binary}[kind](size)


def zip_archive(size):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        written = 0
        i = 0
        while written < size:
            kind = r.choice(["txt", "log", "html", "bin"])
            data = member(kind, r.randint(2000, max(4000, size // 6)))
            info = zipfile.ZipInfo("dir%d/file%d.%s" % (i % 3, i, kind), date_time=(2026, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
            written += len(data)
            i += 1
    return buf.getvalue()


def tar_gz(size):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        written = 0
        i = 0
        while written < size:
            kind = r.choice(["txt", "log", "html", "bin"])
            data = member(kind, r.randint(2000, max(4000, size // 6)))
            info = tarfile.TarInfo("src/file%d.%s" % (i, kind))
            info.size, info.mtime = len(data), 1793491200
            t.addfile(info, io.BytesIO(data))
            written += len(data)
            i += 1
    return gzip.compress(raw.getvalue(), 6, mtime=0)


def pattern_bytes():
    return r.randbytes(r.randint(10, 24))


def main():
    out_dir, size_mb = sys.argv[1], int(sys.argv[2])
    corpus, db = os.path.join(out_dir, "corpus"), os.path.join(out_dir, "db")
    os.makedirs(db, exist_ok=True)

    # Body patterns first: some are planted into corpus files below.
    ndb, ldb, planted = [], [], []
    for i in range(3000):
        p = pattern_bytes()
        h = p.hex()
        form = r.random()
        if form < 0.2:  # a wildcard byte in the middle
            k = len(h) // 2 & ~1
            h = h[:k] + "??" + h[k + 2:]
        elif form < 0.3:  # a bounded jump between two halves
            k = len(h) // 2 & ~1
            h = h[:k] + "{2-8}" + h[k:]
        ndb.append("Bench.Body-%d:0:*:%s" % (i, h))
        if i < 6 and form >= 0.3:
            planted.append(p)
    for i in range(300):
        a, b = pattern_bytes().hex(), pattern_bytes().hex()
        ldb.append("Bench.Logical-%d;Target:0;0&1;%s;%s" % (i, a, b))
    ndb.append("Eicar-Test-Signature:0:0:%s" % EICAR.hex())

    files = []  # (relative path, bytes)
    budget = size_mb * 1_000_000
    total, i = 0, 0
    kinds = [("txt", 0.2), ("log", 0.15), ("html", 0.15), ("pdf", 0.1), ("zip", 0.15), ("tgz", 0.05), ("bin", 0.2)]
    while total < budget:
        kind = r.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
        size = int(min(r.lognormvariate(11.5, 1.3), 8_000_000)) + 512
        data = {"pdf": pdf, "zip": zip_archive, "tgz": tar_gz}.get(kind, lambda s: member(kind, s))(size)
        ext = {"tgz": "tar.gz"}.get(kind, kind)
        files.append(("d%02d/f%05d.%s" % (i % 40, i, ext), data))
        total += len(data)
        i += 1

    # Planted findings: body patterns inside text and binaries, EICARs plain and zipped,
    # and three files listed by MD5 and SHA-256.
    expected = 0
    for n, p in enumerate(planted):
        path, data = files[n * 7 + 1]
        if path.endswith((".txt", ".log", ".bin")):
            at = r.randint(0, len(data) - 1)
            files[n * 7 + 1] = (path, data[:at] + p + data[at:])
            expected += 1
    for n in range(3):
        files.append(("eicar/eicar%d.com" % n, EICAR))
        expected += 1
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("eicar.com", date_time=(2026, 11, 1, 0, 0, 0)), EICAR)
    files.append(("eicar/eicar.zip", buf.getvalue()))
    expected += 1

    hdb = ["%s:%d:Bench.Hash-%d" % (r.randbytes(16).hex(), r.randint(100, 10**7), n) for n in range(20000)]
    hsb = ["%s:%d:Bench.Sha256-%d" % (r.randbytes(32).hex(), r.randint(100, 10**7), n) for n in range(5000)]
    for n in range(3):
        path, data = files[n * 11 + 3]
        hdb.append("%s:%d:Bench.Planted-%d" % (hashlib.md5(data).hexdigest(), len(data), n))
        hsb.append("%s:%d:Bench.PlantedSha-%d" % (hashlib.sha256(data).hexdigest(), len(data), n))
        expected += 1

    for path, data in files:
        full = os.path.join(corpus, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    for name, lines in [("bench.hdb", hdb), ("bench.hsb", hsb), ("bench.ndb", ndb), ("bench.ldb", ldb)]:
        with open(os.path.join(db, name), "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(out_dir, "expected"), "w") as f:
        f.write("%d\n" % expected)
    print("%d files, %.1f MB, %d planted findings, %d signatures" % (
        len(files), sum(len(d) for _, d in files) / 1e6, expected, len(hdb) + len(hsb) + len(ndb) + len(ldb)))


if __name__ == "__main__":
    main()
