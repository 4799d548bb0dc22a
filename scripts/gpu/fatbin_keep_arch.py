#!/usr/bin/env python3
"""Keeps one GPU architecture's code in a shared library's CUDA fatbinary.

    fatbin_keep_arch.py IN.so OUT.so 90

Every code object in the ELF section .nv_fatbin whose target is not sm_ARCH has its bytes set to
zero; headers, sizes and everything outside the section stay as they are, so the library links and
loads as before and a compressor packs the zeroed bytes away. The output runs only on GPUs of that
architecture (sm_90: H100, H200). Exits 1 when the section is missing or holds no object for ARCH.
"""
import struct
import subprocess
import sys

FATBIN_MAGIC = 0xBA55ED50


def section(path, name):
    out = subprocess.check_output(["readelf", "-S", "-W", path], text=True)
    for line in out.splitlines():
        if f" {name} " in line:
            fields = line.split("]", 1)[1].split()
            return int(fields[3], 16), int(fields[4], 16)
    return None


def main():
    src, dst, keep = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = bytearray(open(src, "rb").read())
    where = section(src, ".nv_fatbin")
    if where is None:
        sys.exit(f"fatbin_keep_arch: {src} has no .nv_fatbin section")
    pos, end = where[0], where[0] + where[1]
    kept = zeroed = containers = without = 0
    while pos + 16 <= end:
        magic, _, header, size = struct.unpack_from("<IHHQ", data, pos)
        if magic != FATBIN_MAGIC:  # alignment padding between containers
            pos += 8
            continue
        containers += 1
        entry, entries_end, has = pos + header, pos + header + size, False
        while entry < entries_end:
            _, _, eheader, esize = struct.unpack_from("<HHIQ", data, entry)
            arch = struct.unpack_from("<I", data, entry + 28)[0]
            body = entry + eheader
            if arch == keep:
                has, kept = True, kept + esize
            else:
                data[body:body + esize] = bytes(esize)
                zeroed += esize
            entry = body + esize
        without += not has
        pos = entries_end
    if kept == 0:
        sys.exit(f"fatbin_keep_arch: {src} has no sm_{keep} code")
    open(dst, "wb").write(data)
    print(f"fatbin_keep_arch: {containers} containers, sm_{keep} kept {kept / 1e6:.1f} MB, "
          f"other architectures zeroed {zeroed / 1e6:.1f} MB, {without} containers without sm_{keep}")


if __name__ == "__main__":
    main()
