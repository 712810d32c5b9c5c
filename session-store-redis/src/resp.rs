//! Commands written straight into RESP.
//!
//! A write builds one `EVALSHA` of a dozen arguments per request. Written
//! here, the arguments go once into one buffer (integers through `itoa`,
//! the meta line without `fmt`, prefixed field names without a `String`
//! each); redis-rs's
//! `Cmd` takes several allocations and `fmt` calls for the same bytes, and
//! only the cluster client, which needs one, gets a `Cmd` made from this.

use crate::keys::Key;

/// One command: its arguments, each already framed as a bulk string.
#[derive(Clone, Debug)]
pub(crate) struct Command {
    /// `$<len>\r\n<arg>\r\n` per argument.
    buf: Vec<u8>,
    count: usize,
}

impl Command {
    /// A command called `name`, with no arguments yet.
    pub(crate) fn new(name: &str) -> Self {
        let mut cmd = Self {
            buf: Vec::with_capacity(128),
            count: 0,
        };
        cmd.arg(name.as_bytes());
        cmd
    }

    /// Appends an argument.
    pub(crate) fn arg(&mut self, bytes: &[u8]) -> &mut Self {
        self.arg_parts(&[bytes])
    }

    /// Appends one argument made of `parts` end to end.
    pub(crate) fn arg_parts(&mut self, parts: &[&[u8]]) -> &mut Self {
        let len = parts.iter().map(|p| p.len()).sum::<usize>();
        let mut digits = itoa::Buffer::new();
        let len_text = digits.format(len).as_bytes();
        self.buf.reserve(len + len_text.len() + 5);
        self.buf.push(b'$');
        self.buf.extend_from_slice(len_text);
        self.buf.extend_from_slice(b"\r\n");
        for part in parts {
            self.buf.extend_from_slice(part);
        }
        self.buf.extend_from_slice(b"\r\n");
        self.count += 1;
        self
    }

    /// Appends a storage key, prefix and tag as one argument.
    pub(crate) fn arg_key(&mut self, key: &Key<'_>) -> &mut Self {
        self.arg_parts(&[key.prefix.as_bytes(), &key.tag])
    }

    /// Appends an integer argument, in decimal.
    pub(crate) fn arg_int(&mut self, n: i64) -> &mut Self {
        self.arg(itoa::Buffer::new().format(n).as_bytes())
    }

    /// Appends the argument that `write` appends to the buffer it is given.
    pub(crate) fn arg_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        let start = self.buf.len();
        write(&mut self.buf);
        let mut digits = itoa::Buffer::new();
        let len = digits.format(self.buf.len() - start).as_bytes();
        // The length goes in front of the bytes just written: a short
        // shift, where writing them to a scratch buffer first would copy
        // them all.
        let head = [b"$", len, b"\r\n"];
        self.buf
            .splice(start..start, head.iter().flat_map(|p| p.iter().copied()));
        self.buf.extend_from_slice(b"\r\n");
        self.count += 1;
        self
    }

    /// The whole command, ready for the socket.
    pub(crate) fn packed(&self) -> Vec<u8> {
        let mut digits = itoa::Buffer::new();
        let count = digits.format(self.count).as_bytes();
        let body = &self.buf[..];
        let mut out = Vec::with_capacity(count.len() + 3 + body.len());
        out.push(b'*');
        out.extend_from_slice(count);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out
    }

    /// The arguments, name first.
    #[cfg(any(feature = "cluster", test))]
    pub(crate) fn args(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = &self.buf[..];
        std::iter::from_fn(move || {
            // Every argument was framed by `arg_parts` or `arg_with`.
            let digits = rest.iter().position(|&b| b == b'\r')?;
            let len: usize = std::str::from_utf8(rest.get(1..digits)?)
                .ok()?
                .parse()
                .ok()?;
            let start = digits + 2;
            let arg = rest.get(start..start + len)?;
            rest = rest.get(start + len + 2..)?;
            Some(arg)
        })
    }

    /// The same command as redis-rs's `Cmd`, for the cluster client.
    #[cfg(feature = "cluster")]
    pub(crate) fn to_cmd(&self) -> redis::Cmd {
        let mut args = self.args();
        let mut cmd =
            redis::cmd(std::str::from_utf8(args.next().unwrap_or_default()).unwrap_or_default());
        for arg in args {
            cmd.arg(arg);
        }
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_as_redis_rs_does() {
        let mut ours = Command::new("EVALSHA");
        ours.arg(b"abc")
            .arg_int(1)
            .arg_parts(&[b"d:", "ключ".as_bytes()])
            .arg_int(-1_700_000_000_123)
            .arg_int(i64::MIN)
            .arg_with(|out| out.extend_from_slice(b"1 2 - 3"))
            .arg(b"")
            .arg(&[0, 13, 10, 255]);
        let mut theirs = redis::cmd("EVALSHA");
        theirs
            .arg("abc")
            .arg(1)
            .arg("d:ключ")
            .arg(-1_700_000_000_123i64)
            .arg(i64::MIN)
            .arg("1 2 - 3")
            .arg("")
            .arg(&[0u8, 13, 10, 255][..]);
        assert_eq!(ours.packed(), theirs.get_packed_command());
        let args: Vec<&[u8]> = ours.args().collect();
        assert_eq!(args.len(), 9);
        assert_eq!(args[3], "d:ключ".as_bytes());
        assert_eq!(args[8], &[0, 13, 10, 255]);
    }
}
