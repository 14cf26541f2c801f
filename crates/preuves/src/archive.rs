//! The backup archive's container: a POSIX tar file (ustar), written and read with the `tar`
//! crate, so that a backup is one ordinary file that `tar tvf` lists and `tar xf` extracts.
//!
//! Only what backups need: regular files, names up to 255 bytes (split between the ustar `name`
//! and `prefix` fields), sizes in octal or, from 8 GiB, in the base-256 form GNU tar and
//! libarchive read. The reader refuses anything else: an entry that is not a regular file
//! (links, devices, folders, long-name or pax extension headers), a name that is absolute or
//! has a `..` or `.` segment, a bad checksum, an archive cut short. It never writes anything
//! itself: a restore maps the few names it knows to destinations it chooses, and never joins an
//! entry's name to a path.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::path::{Component, Path};
use std::rc::Rc;

use tar::{EntryType, Header};

/// The size of a tar block.
const BLOCK: u64 = 512;

/// Writes entries to a tar stream; [`TarWriter::finish`] writes the end-of-archive marker.
pub(crate) struct TarWriter<W: Write> {
    builder: tar::Builder<W>,
}

impl<W: Write> TarWriter<W> {
    pub(crate) fn new(out: W) -> Self {
        Self {
            builder: tar::Builder::new(out),
        }
    }

    /// Writes the header of a regular file of `size` bytes named `name`; exactly `size` bytes
    /// must then be given to [`TarWriter::write_data`], then [`TarWriter::end_entry`] called.
    /// (The content comes from an asynchronous stream, which `tar::Builder::append` cannot
    /// read, hence the three steps.)
    pub(crate) fn start_entry(&mut self, name: &str, size: u64, mtime: u64) -> io::Result<()> {
        let header = header(name, size, mtime)?;
        self.builder.get_mut().write_all(header.as_bytes())
    }

    /// Writes part of the current entry's content.
    pub(crate) fn write_data(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.builder.get_mut().write_all(bytes)
    }

    /// Pads the entry of `size` bytes to a whole block.
    pub(crate) fn end_entry(&mut self, size: u64) -> io::Result<()> {
        let padding = (BLOCK - size % BLOCK) % BLOCK;
        io::copy(&mut io::repeat(0).take(padding), self.builder.get_mut()).map(|_| ())
    }

    /// A whole entry held in memory.
    pub(crate) fn entry(&mut self, name: &str, bytes: &[u8], mtime: u64) -> io::Result<()> {
        let header = header(name, bytes.len() as u64, mtime)?;
        self.builder.append(&header, bytes)
    }

    /// Writes the two zero blocks that end an archive and gives the output back.
    pub(crate) fn finish(self) -> io::Result<W> {
        self.builder.into_inner()
    }
}

/// The ustar header of a regular file: `tar` splits a long name between `prefix` and `name`
/// and refuses one that does not fit, an empty one, an absolute one or one with `..`.
fn header(name: &str, size: u64, mtime: u64) -> io::Result<Header> {
    let mut header = Header::new_ustar();
    header.set_path(name)?;
    header.set_entry_type(EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header.set_cksum();
    Ok(header)
}

/// Reads a tar stream; [`TarReader::entries`] walks it.
pub(crate) struct TarReader<R: Read> {
    archive: tar::Archive<EndWatch<R>>,
    /// Whether the input ran out: at the end of the entries, it means no end-of-archive marker.
    input_ended: Rc<Cell<bool>>,
}

impl<R: Read> TarReader<R> {
    pub(crate) fn new(input: R) -> Self {
        let input_ended = Rc::new(Cell::new(false));
        let watched = EndWatch {
            inner: input,
            ended: Rc::clone(&input_ended),
        };
        Self {
            archive: tar::Archive::new(watched),
            input_ended,
        }
    }

    /// The entries, in order (once per reader).
    pub(crate) fn entries(&mut self) -> io::Result<Entries<'_, R>> {
        Ok(Entries {
            // Raw: extension headers (long names, pax) are entries of their own, refused below,
            // so every name read is the one in a plain ustar header.
            inner: self.archive.entries()?.raw(true),
            input_ended: Rc::clone(&self.input_ended),
        })
    }
}

/// The entries of a [`TarReader`].
pub(crate) struct Entries<'a, R: Read> {
    inner: tar::Entries<'a, EndWatch<R>>,
    input_ended: Rc<Cell<bool>>,
}

impl<'a, R: Read> Entries<'a, R> {
    /// The next entry, skipping what is left of the previous one (which must not be read
    /// afterwards); `None` at the end-of-archive marker. Anything but a regular file with a
    /// relative name is an error.
    pub(crate) fn next_entry(&mut self) -> io::Result<Option<Entry<'a, R>>> {
        let Some(entry) = self.inner.next().transpose()? else {
            return if self.input_ended.get() {
                // Cut right after an entry: no end marker.
                Err(truncated())
            } else {
                Ok(None)
            };
        };
        let kind = entry.header().entry_type();
        if kind != EntryType::Regular {
            return Err(invalid(format!(
                "entry of type {:?}: only regular files are expected",
                char::from(kind.as_byte())
            )));
        }
        let name = std::str::from_utf8(&entry.path_bytes())
            .map_err(|_| invalid("entry name is not UTF-8".into()))?
            .to_owned();
        check_name(&name)?;
        let remaining = entry.header().entry_size()?;
        Ok(Some(Entry {
            inner: entry,
            name,
            remaining,
        }))
    }
}

/// Refuses a name that could lead out of a folder if it ever were joined to one.
fn check_name(name: &str) -> io::Result<()> {
    let plain = !name.is_empty()
        && !name.contains('\\')
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        // `components` drops inner `.` segments; they are refused all the same.
        && !name.split('/').any(|segment| segment == ".");
    if plain {
        Ok(())
    } else {
        Err(invalid(format!(
            "entry name {name:?}: only relative names without `.` or `..` are expected"
        )))
    }
}

/// A regular file of the archive, read through [`Read`].
pub(crate) struct Entry<'a, R: Read> {
    inner: tar::Entry<'a, EndWatch<R>>,
    /// The full name (`prefix/name`).
    pub(crate) name: String,
    /// Bytes not read yet.
    remaining: u64,
}

impl<R: Read> Entry<'_, R> {
    /// Reads the whole entry, refusing one larger than `limit` bytes.
    pub(crate) fn read_to_vec(&mut self, limit: u64) -> io::Result<Vec<u8>> {
        if self.remaining > limit {
            return Err(invalid(format!("entry larger than {limit} bytes")));
        }
        let mut out = Vec::with_capacity(usize::try_from(self.remaining).unwrap_or(0));
        self.read_to_end(&mut out)?;
        Ok(out)
    }
}

impl<R: Read> Read for Entry<'_, R> {
    /// Like the entry's own reader, except that an archive ending inside the entry is an
    /// error, not a short file.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(truncated());
        }
        self.remaining = self.remaining.saturating_sub(n as u64);
        Ok(n)
    }
}

/// The archive's input, noting when it runs out.
struct EndWatch<R> {
    inner: R,
    ended: Rc<Cell<bool>>,
}

impl<R: Read> Read for EndWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ended.set(true);
        }
        Ok(n)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the archive is truncated")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest size the 11 octal digits of the size field hold (8 GiB - 1).
    const MAX_OCTAL_SIZE: u64 = 0o77_777_777_777;

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = TarWriter::new(Vec::new());
        for (name, bytes) in entries {
            w.entry(name, bytes, 1_700_000_000).unwrap();
        }
        w.finish().unwrap()
    }

    /// An archive of one entry whose header is `header` (its checksum recomputed) and whose
    /// content is `content`, written without the writer's checks.
    fn crafted(mut header: Header, content: &[u8]) -> Vec<u8> {
        header.set_size(content.len() as u64);
        header.set_cksum();
        let mut bytes = header.as_bytes().to_vec();
        bytes.extend_from_slice(content);
        bytes.resize(bytes.len().next_multiple_of(BLOCK as usize) + 1024, 0);
        bytes
    }

    /// A regular file's header whose name field holds `name` as is.
    fn named(name: &str) -> Header {
        let mut h = header("placeholder", 0, 0).unwrap();
        let field = &mut h.as_old_mut().name;
        field.fill(0);
        field[..name.len()].copy_from_slice(name.as_bytes());
        h
    }

    /// An entry's name and size, as its header gives them.
    fn described(e: &Entry<'_, &[u8]>) -> (String, u64) {
        (e.name.clone(), e.inner.size())
    }

    fn first_entry(bytes: &[u8]) -> io::Result<Option<(String, u64)>> {
        let mut r = TarReader::new(bytes);
        let mut entries = r.entries()?;
        Ok(entries.next_entry()?.as_ref().map(described))
    }

    #[test]
    fn round_trip_with_padding_and_long_names() {
        let long = format!("blobs/{}/{}", "a".repeat(120), "b".repeat(90));
        let big = vec![7u8; 1500];
        let bytes = archive(&[("m.json", b"{}"), (&long, &big), ("empty", b"")]);
        assert_eq!(bytes.len() % BLOCK as usize, 0);
        let mut r = TarReader::new(bytes.as_slice());
        let mut entries = r.entries().unwrap();
        let mut e = entries.next_entry().unwrap().unwrap();
        assert_eq!(described(&e), ("m.json".to_owned(), 2));
        assert_eq!(e.read_to_vec(10).unwrap(), b"{}");
        let e = entries.next_entry().unwrap().unwrap();
        assert_eq!(described(&e), (long.clone(), 1500));
        // Not reading an entry skips it.
        let e = entries.next_entry().unwrap().unwrap();
        assert_eq!(described(&e), ("empty".to_owned(), 0));
        assert!(entries.next_entry().unwrap().is_none());
    }

    #[test]
    fn streamed_entries_are_padded() {
        let mut w = TarWriter::new(Vec::new());
        w.start_entry("a", 700, 0).unwrap();
        w.write_data(&[1; 300]).unwrap();
        w.write_data(&[2; 400]).unwrap();
        w.end_entry(700).unwrap();
        w.entry("b", b"x", 0).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len(), 512 + 1024 + 512 + 512 + 1024);
        let mut r = TarReader::new(bytes.as_slice());
        let mut entries = r.entries().unwrap();
        let mut a = entries.next_entry().unwrap().unwrap();
        let content = a.read_to_vec(1000).unwrap();
        assert_eq!((content.len(), content[299], content[300]), (700, 1, 2));
        assert!(a.read_to_vec(0).unwrap().is_empty(), "nothing left");
        let mut b = entries.next_entry().unwrap().unwrap();
        assert_eq!(b.read_to_vec(10).unwrap(), b"x");
        assert!(entries.next_entry().unwrap().is_none());
    }

    #[test]
    fn names_that_do_not_fit_are_refused() {
        assert!(header(&"x".repeat(101), 0, 0).is_err());
        assert!(header(&format!("{}/{}", "p".repeat(156), "n"), 0, 0).is_err());
        assert!(header("", 0, 0).is_err());
        // Nor can the writer be made to write a name that leads elsewhere.
        assert!(header("../x", 0, 0).is_err());
        assert!(header("/etc/x", 0, 0).is_err());
    }

    #[test]
    fn sizes_beyond_8_gib_use_base_256() {
        let h = header("big", MAX_OCTAL_SIZE + 1, 0).unwrap();
        assert_eq!(h.as_bytes()[124], 0x80, "base-256 marker");
        let mut input = h.as_bytes().to_vec();
        input.extend_from_slice(&[0; 1024]);
        let mut r = TarReader::new(input.as_slice());
        let mut entries = r.entries().unwrap();
        let e = entries.next_entry().unwrap().unwrap();
        assert_eq!(described(&e).1, MAX_OCTAL_SIZE + 1);
    }

    #[test]
    fn damage_is_detected() {
        let mut bytes = archive(&[("a", b"hello")]);
        bytes[0] = b'b';
        assert!(first_entry(&bytes).is_err());
        let bytes = archive(&[("a", b"hello")]);
        // Cut in the middle of the content, and right after the entry.
        let cut = &bytes[..BLOCK as usize + 3];
        let mut r = TarReader::new(cut);
        let mut entries = r.entries().unwrap();
        let mut e = entries.next_entry().unwrap().unwrap();
        assert!(e.read_to_vec(10).is_err());
        let cut = &bytes[..2 * BLOCK as usize];
        let mut r = TarReader::new(cut);
        let mut entries = r.entries().unwrap();
        entries.next_entry().unwrap();
        assert!(entries.next_entry().is_err());
        assert!(first_entry(b"not a tar").is_err());
    }

    #[test]
    fn links_are_refused() {
        let mut h = header("evil", 0, 0).unwrap();
        h.set_entry_type(EntryType::Symlink);
        h.set_link_name("/etc/passwd").unwrap();
        assert!(first_entry(&crafted(h, b"")).is_err());
        let mut h = header("evil", 0, 0).unwrap();
        h.set_entry_type(EntryType::Link);
        h.set_link_name("preuves.sqlite3").unwrap();
        assert!(first_entry(&crafted(h, b"")).is_err());
    }

    #[test]
    fn devices_folders_and_extension_headers_are_refused() {
        for kind in [
            EntryType::Char,
            EntryType::Block,
            EntryType::Fifo,
            EntryType::Directory,
            EntryType::GNULongName,
            EntryType::XHeader,
            EntryType::XGlobalHeader,
        ] {
            let mut h = header("x", 0, 0).unwrap();
            h.set_entry_type(kind);
            assert!(first_entry(&crafted(h, b"")).is_err(), "{kind:?}");
        }
        // The control: the same header as a regular file is read.
        let h = header("x", 0, 0).unwrap();
        assert_eq!(
            first_entry(&crafted(h, b"ok")).unwrap(),
            Some(("x".to_owned(), 2))
        );
    }

    #[test]
    fn names_leading_elsewhere_are_refused() {
        for name in [
            "../evil",
            "blobs/../../evil",
            "blobs/a/..",
            "/etc/cron.d/evil",
            "./preuves.sqlite3",
            "blobs/./a",
            "blobs\\..\\evil",
        ] {
            assert!(
                first_entry(&crafted(named(name), b"x")).is_err(),
                "{name:?} accepted"
            );
        }
        assert_eq!(
            first_entry(&crafted(named("blobs/proofs/a"), b"x")).unwrap(),
            Some(("blobs/proofs/a".to_owned(), 1))
        );
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
            let Ok(mut entries) = r.entries() else {
                continue;
            };
            for _ in 0..10 {
                match entries.next_entry() {
                    Ok(Some(mut entry)) => {
                        let _ = entry.read_to_vec(1 << 20);
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
