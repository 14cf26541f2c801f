//! The backup archive's container: a POSIX tar file (ustar), written and read here so that a
//! backup is one ordinary file that `tar tvf` lists and `tar xf` extracts.
//!
//! Only what backups need: regular files, names up to 255 bytes (split between the ustar `name`
//! and `prefix` fields), sizes in octal or, from 8 GiB, in the base-256 form GNU tar and
//! libarchive read. The reader refuses anything else (links, devices, folders, bad checksums),
//! so a crafted archive cannot make a restore write outside the places it chooses itself.

use std::io::{self, Read, Write};

/// The size of a tar block.
const BLOCK: usize = 512;

/// The largest size the 11 octal digits of the size field hold (8 GiB - 1).
const MAX_OCTAL_SIZE: u64 = 0o77_777_777_777;

/// Writes entries to a tar stream; [`TarWriter::finish`] writes the end-of-archive marker.
pub(crate) struct TarWriter<W: Write> {
    out: W,
}

impl<W: Write> TarWriter<W> {
    pub(crate) fn new(out: W) -> Self {
        Self { out }
    }

    /// Writes the header of a regular file of `size` bytes named `name`; exactly `size` bytes
    /// must then be given to [`TarWriter::write_data`], then [`TarWriter::end_entry`] called.
    pub(crate) fn start_entry(&mut self, name: &str, size: u64, mtime: u64) -> io::Result<()> {
        let header = header(name, size, mtime)?;
        self.out.write_all(&header)
    }

    /// Writes part of the current entry's content.
    pub(crate) fn write_data(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    /// Pads the entry of `size` bytes to a whole block.
    pub(crate) fn end_entry(&mut self, size: u64) -> io::Result<()> {
        let rest = (size % BLOCK as u64) as usize;
        if rest != 0 {
            self.out.write_all(&[0; BLOCK][..BLOCK - rest])?;
        }
        Ok(())
    }

    /// A whole entry held in memory.
    pub(crate) fn entry(&mut self, name: &str, bytes: &[u8], mtime: u64) -> io::Result<()> {
        self.start_entry(name, bytes.len() as u64, mtime)?;
        self.write_data(bytes)?;
        self.end_entry(bytes.len() as u64)
    }

    /// Writes the two zero blocks that end an archive and gives the output back.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0; 2 * BLOCK])?;
        Ok(self.out)
    }
}

/// The 512-byte ustar header of a regular file.
fn header(name: &str, size: u64, mtime: u64) -> io::Result<[u8; BLOCK]> {
    let mut h = [0u8; BLOCK];
    let (prefix, base) = split_name(name)?;
    h[..base.len()].copy_from_slice(base.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    if size <= MAX_OCTAL_SIZE {
        octal(&mut h[124..136], size);
    } else {
        // Base-256: the high bit of the first byte set, the value big-endian in the rest.
        h[124] = 0x80;
        h[128..136].copy_from_slice(&size.to_be_bytes());
    }
    octal(&mut h[136..148], mtime.min(MAX_OCTAL_SIZE));
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    // The checksum is computed with its own field as spaces.
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let digits = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(digits.as_bytes());
    Ok(h)
}

/// Splits a name into the ustar `prefix` (up to 155 bytes) and `name` (up to 100 bytes) at a
/// `/`.
fn split_name(name: &str) -> io::Result<(&str, &str)> {
    if name.is_empty() || name.contains('\0') {
        return Err(invalid(format!("invalid entry name {name:?}")));
    }
    if name.len() <= 100 {
        return Ok(("", name));
    }
    name.match_indices('/')
        .map(|(i, _)| (&name[..i], &name[i + 1..]))
        .find(|(prefix, base)| prefix.len() <= 155 && base.len() <= 100 && !base.is_empty())
        .ok_or_else(|| invalid(format!("entry name too long for a tar archive: {name}")))
}

/// Writes `value` as zero-padded octal digits followed by a NUL, filling `field`.
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let digits = format!("{value:0width$o}");
    field[..width].copy_from_slice(&digits.as_bytes()[digits.len() - width..]);
    field[width] = 0;
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// An entry's header, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryHeader {
    /// The full name (`prefix/name`).
    pub(crate) name: String,
    /// The content's size in bytes.
    pub(crate) size: u64,
}

/// Reads a tar stream entry by entry.
pub(crate) struct TarReader<R: Read> {
    input: R,
    /// Bytes of the current entry not read yet, and its padding.
    remaining: u64,
    padding: u64,
}

impl<R: Read> TarReader<R> {
    pub(crate) fn new(input: R) -> Self {
        Self {
            input,
            remaining: 0,
            padding: 0,
        }
    }

    /// The next entry's header, skipping what is left of the current one; `None` at the end
    /// of the archive. Anything but a regular file is an error.
    pub(crate) fn next_entry(&mut self) -> io::Result<Option<EntryHeader>> {
        let skip = self.remaining + self.padding;
        if skip > 0 {
            let skipped = io::copy(&mut (&mut self.input).take(skip), &mut io::sink())?;
            if skipped != skip {
                return Err(truncated());
            }
            self.remaining = 0;
            self.padding = 0;
        }
        let mut h = [0u8; BLOCK];
        if !read_full(&mut self.input, &mut h)? {
            // An archive cut right after an entry: no end marker.
            return Err(truncated());
        }
        if h.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let stored =
            parse_octal(&h[148..156]).ok_or_else(|| invalid("bad checksum field".into()))?;
        let mut copy = h;
        copy[148..156].copy_from_slice(b"        ");
        let sum: u64 = copy.iter().map(|&b| u64::from(b)).sum();
        if sum != stored {
            return Err(invalid(
                "a header's checksum does not match: not a tar archive, or a damaged one".into(),
            ));
        }
        if !matches!(h[156], b'0' | 0) {
            return Err(invalid(format!(
                "entry of type {:?}: only regular files are expected",
                char::from(h[156])
            )));
        }
        let size = if h[124] & 0x80 != 0 {
            if h[124..128].iter().skip(1).any(|&b| b != 0) || h[124] != 0x80 {
                return Err(invalid("entry size out of range".into()));
            }
            u64::from_be_bytes(h[128..136].try_into().map_err(|_| truncated())?)
        } else {
            parse_octal(&h[124..136]).ok_or_else(|| invalid("bad size field".into()))?
        };
        let text = |field: &[u8]| -> io::Result<String> {
            let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
            String::from_utf8(field[..end].to_vec())
                .map_err(|_| invalid("entry name is not UTF-8".into()))
        };
        let base = text(&h[..100])?;
        let prefix = if &h[257..262] == b"ustar" {
            text(&h[345..500])?
        } else {
            String::new()
        };
        let name = if prefix.is_empty() {
            base
        } else {
            format!("{prefix}/{base}")
        };
        self.remaining = size;
        self.padding = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        Ok(Some(EntryHeader { name, size }))
    }

    /// Reads up to `buf.len()` bytes of the current entry; 0 at its end.
    pub(crate) fn read_data(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(self.remaining).map_or(buf.len(), |r| r.min(buf.len()));
        let n = self.input.read(&mut buf[..want])?;
        if n == 0 {
            return Err(truncated());
        }
        self.remaining -= n as u64;
        Ok(n)
    }

    /// Reads the whole current entry, refusing one larger than `limit` bytes.
    pub(crate) fn read_to_vec(&mut self, limit: u64) -> io::Result<Vec<u8>> {
        if self.remaining > limit {
            return Err(invalid(format!("entry larger than {limit} bytes")));
        }
        let mut out = vec![0; usize::try_from(self.remaining).map_err(|_| truncated())?];
        let mut filled = 0;
        while filled < out.len() {
            filled += self.read_data(&mut out[filled..])?;
        }
        Ok(out)
    }
}

/// Fills `buf`; `false` if the input ended before its first byte, an error if in its middle.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(truncated()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// An octal field: digits, possibly surrounded by spaces, ended by NUL or space.
fn parse_octal(field: &[u8]) -> Option<u64> {
    let text: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| b != 0 && b != b' ')
        .collect();
    if text.is_empty() || !text.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    text.iter().try_fold(0u64, |acc, &b| {
        acc.checked_mul(8)?.checked_add(u64::from(b - b'0'))
    })
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the archive is truncated")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = TarWriter::new(Vec::new());
        for (name, bytes) in entries {
            w.entry(name, bytes, 1_700_000_000).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn round_trip_with_padding_and_long_names() {
        let long = format!("blobs/{}/{}", "a".repeat(120), "b".repeat(90));
        let big = vec![7u8; 1500];
        let bytes = archive(&[("m.json", b"{}"), (&long, &big), ("empty", b"")]);
        assert_eq!(bytes.len() % BLOCK, 0);
        let mut r = TarReader::new(bytes.as_slice());
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!((e.name.as_str(), e.size), ("m.json", 2));
        assert_eq!(r.read_to_vec(10).unwrap(), b"{}");
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!((e.name.as_str(), e.size), (long.as_str(), 1500));
        // Not reading an entry skips it.
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!((e.name.as_str(), e.size), ("empty", 0));
        assert_eq!(r.next_entry().unwrap(), None);
    }

    #[test]
    fn names_that_do_not_fit_are_refused() {
        assert!(header(&"x".repeat(101), 0, 0).is_err());
        assert!(header(&format!("{}/{}", "p".repeat(156), "n"), 0, 0).is_err());
        assert!(header("", 0, 0).is_err());
    }

    #[test]
    fn sizes_beyond_8_gib_use_base_256() {
        let h = header("big", MAX_OCTAL_SIZE + 1, 0).unwrap();
        let mut input = h.to_vec();
        input.extend_from_slice(&[0; 1024]);
        let mut r = TarReader::new(input.as_slice());
        assert_eq!(r.next_entry().unwrap().unwrap().size, MAX_OCTAL_SIZE + 1);
    }

    #[test]
    fn damage_is_detected() {
        let mut bytes = archive(&[("a", b"hello")]);
        bytes[0] = b'b';
        assert!(TarReader::new(bytes.as_slice()).next_entry().is_err());
        let bytes = archive(&[("a", b"hello")]);
        // Cut in the middle of the content, and right after the entry.
        let mut r = TarReader::new(&bytes[..BLOCK + 3]);
        r.next_entry().unwrap();
        assert!(r.read_to_vec(10).is_err());
        let mut r = TarReader::new(&bytes[..2 * BLOCK]);
        r.next_entry().unwrap();
        assert!(r.next_entry().is_err());
        assert!(TarReader::new(&b"not a tar"[..]).next_entry().is_err());
    }

    #[test]
    fn links_are_refused() {
        let mut h = header("evil", 0, 0).unwrap();
        h[156] = b'2';
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let mut input = h.to_vec();
        input.extend_from_slice(&[0; 1024]);
        assert!(TarReader::new(input.as_slice()).next_entry().is_err());
    }

    /// Whatever the bytes, reading gives entries or an error, never a panic (restore reads
    /// archives that may be damaged).
    #[test]
    fn damaged_archives_never_panic() {
        let valid = archive(&[("m.json", b"{}"), ("blobs/a/b", &[9u8; 2000]), ("x", b"y")]);
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..2000 {
            let mut bytes = valid.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 3 {
                    0 => bytes[at] ^= (next() % 255 + 1) as u8,
                    1 => bytes.truncate(at),
                    _ => bytes[at] = b"0 7\0\x80\xff"[(next() % 6) as usize],
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let mut r = TarReader::new(bytes.as_slice());
            for _ in 0..10 {
                match r.next_entry() {
                    Ok(Some(_)) => {
                        let _ = r.read_to_vec(1 << 20);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }

    #[test]
    fn the_system_tar_reads_our_archives() {
        let Ok(out) = std::process::Command::new("tar").arg("--version").output() else {
            return;
        };
        if !out.status.success() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let long = format!("blobs/{}/{}", "a".repeat(120), "b".repeat(90));
        let bytes = archive(&[("m.json", b"{}"), (&long, b"content")]);
        let path = dir.path().join("a.tar");
        std::fs::write(&path, bytes).unwrap();
        let listed = std::process::Command::new("tar")
            .arg("tf")
            .arg(&path)
            .output()
            .unwrap();
        assert!(listed.status.success());
        let names = String::from_utf8(listed.stdout).unwrap();
        assert_eq!(
            names.lines().collect::<Vec<_>>(),
            vec!["m.json", long.as_str()]
        );
    }
}
