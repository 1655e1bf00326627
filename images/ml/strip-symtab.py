"""Drop the static symbol table (.symtab + .strtab) of 64-bit little-endian ELF shared libraries.

`strip --remove-section=.symtab --remove-section=.strtab` without binutils in the image. These
sections are never loaded: the dynamic linker, dlsym and JAX's JIT use .dynsym; only debuggers
and crash symbolizers read .symtab. jaxlib's libjax_common.so carries 108 MB of it.

The loaded part of the file is kept byte for byte: only non-allocated sections that lie after
every segment are rewritten. A file whose layout does not allow this is left untouched.

    python strip-symtab.py FILE...
"""

import struct
import sys

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
PHDR = struct.Struct("<IIQQQQQQ")
SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOBITS, SHT_REL = 2, 3, 4, 8, 9
SHF_ALLOC = 0x2
DROP = {b".symtab": SHT_SYMTAB, b".strtab": SHT_STRTAB}


def strip(path: str) -> int:
    """Strip `path` in place; return the bytes saved (0 when left untouched)."""
    with open(path, "r+b") as f:
        data = f.read()
        ehdr = list(EHDR.unpack_from(data))
        ident, phoff, shoff = ehdr[0], ehdr[5], ehdr[6]
        phnum, shnum, shstrndx = ehdr[10], ehdr[12], ehdr[13]
        if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1 or shnum == 0:
            return 0
        sections = [list(SHDR.unpack_from(data, shoff + i * SHDR.size)) for i in range(shnum)]
        names = sections[shstrndx]

        def name(sec):
            start = names[4] + sec[0]
            return data[start : data.index(b"\0", start)]

        drop = {
            i for i, s in enumerate(sections) if DROP.get(name(s)) == s[1] and not s[2] & SHF_ALLOC
        }
        if not drop or shstrndx in drop:
            return 0
        cut = min(sections[i][4] for i in drop)
        segments = [PHDR.unpack_from(data, phoff + i * PHDR.size) for i in range(phnum)]
        segments_end = max((seg[2] + seg[5] for seg in segments), default=0)  # offset + filesz
        kept = [i for i in range(shnum) if i not in drop]
        tail = [i for i in kept if sections[i][4] >= cut and sections[i][1] != SHT_NOBITS]
        if segments_end > cut or any(sections[i][2] & SHF_ALLOC for i in tail):
            return 0
        if any(sections[i][6] in drop for i in kept if sections[i][6]):
            return 0  # a kept section refers to a dropped one
        index = {old: new for new, old in enumerate(kept)}

        out = bytearray()
        offset = cut
        for i in tail:  # move the kept non-loaded sections (e.g. .shstrtab) down to `cut`
            sec = sections[i]
            align = max(sec[9], 1)
            pad = -offset % align
            out += b"\0" * pad + data[sec[4] : sec[4] + sec[5]]
            sec[4] = offset + pad
            offset = sec[4] + sec[5]
        pad = -offset % 8
        out += b"\0" * pad
        new_shoff = offset + pad
        for i in kept:
            sec = sections[i]
            sec[6] = index.get(sec[6], 0) if sec[6] else 0
            if sec[1] in (SHT_REL, SHT_RELA) and sec[7] in index:
                sec[7] = index[sec[7]]
            out += SHDR.pack(*sec)
        ehdr[6], ehdr[12], ehdr[13] = new_shoff, len(kept), index[shstrndx]
        f.seek(0)
        f.write(EHDR.pack(*ehdr))
        f.seek(cut)
        f.write(out)
        f.truncate()
        return len(data) - (cut + len(out))


if __name__ == "__main__":
    for file in sys.argv[1:]:
        saved = strip(file)
        result = f"{saved // 10**6} MB of symbols dropped" if saved else "left as is"
        print(f"strip-symtab: {file}: {result}")
