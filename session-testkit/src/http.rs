//! A small HTTP/1.1 client over a raw TCP socket, with a cookie jar.
//!
//! Raw on purpose: the suites send what a browser or an attacker would,
//! including malformed and duplicated `Cookie` headers, and see every
//! `Set-Cookie` line as the server wrote it.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response as the server sent it.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body (chunked encoding removed), as text.
    pub body: String,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every `Set-Cookie` header value.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `Set-Cookie` value for cookie `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<SetCookie> {
        self.set_cookies()
            .into_iter()
            .map(SetCookie::parse)
            .find(|c| c.name == name)
    }
}

/// A parsed `Set-Cookie` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// The cookie name.
    pub name: String,
    /// The cookie value.
    pub value: String,
    /// Attributes, names lower-cased, in order (`("httponly", "")`).
    pub attrs: Vec<(String, String)>,
}

impl SetCookie {
    /// Parses one header value.
    pub fn parse(header: &str) -> Self {
        let mut parts = header.split(';');
        let first = parts.next().unwrap_or("");
        let (name, value) = first.split_once('=').unwrap_or((first, ""));
        let attrs = parts
            .map(|a| {
                let (k, v) = a.split_once('=').unwrap_or((a, ""));
                (k.trim().to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        Self {
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
            attrs,
        }
    }

    /// The attribute `name` (lower-case), if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when the cookie tells the browser to drop it.
    pub fn is_removal(&self) -> bool {
        self.attr("max-age").is_some_and(|v| v.trim() == "0")
            || self.attr("expires").is_some_and(|v| v.contains("1970"))
    }
}

/// Sends one request with raw header lines and reads the whole response.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &[u8])],
) -> io::Result<Response> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
    for (name, value) in headers {
        req.extend_from_slice(name.as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(value);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    stream.write_all(&req).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no response within 30 s"))??;
    parse(&raw, method == "HEAD")
}

fn parse(raw: &[u8], head: bool) -> io::Result<Response> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head_text = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("no status line"))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked && !head {
        body = dechunk(&body).ok_or_else(|| bad("bad chunked body"))?;
    }
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// A client with a cookie jar, like a browser (it ignores `Secure`,
/// `Domain` and `Path`: everything here is one host on `/`).
#[derive(Debug, Clone)]
pub struct Client {
    addr: SocketAddr,
    jar: BTreeMap<String, String>,
}

impl Client {
    /// A client for the server at `addr`, with an empty jar.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            jar: BTreeMap::new(),
        }
    }

    /// `GET path`, sending the jar and storing what comes back.
    pub async fn get(&mut self, path: &str) -> Response {
        let cookie = self.cookie_header();
        let mut headers: Vec<(&str, &[u8])> = Vec::new();
        if !cookie.is_empty() {
            headers.push(("Cookie", cookie.as_bytes()));
        }
        let resp = send(self.addr, "GET", path, &headers)
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"));
        for header in resp.set_cookies() {
            let c = SetCookie::parse(header);
            if c.is_removal() {
                self.jar.remove(&c.name);
            } else {
                self.jar.insert(c.name, c.value);
            }
        }
        resp
    }

    /// The `Cookie` header the jar would send.
    pub fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The jar's value for cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    /// Puts a cookie in the jar by hand (to replay an old one).
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.jar.insert(name.to_owned(), value.to_owned());
    }

    /// Empties the jar.
    pub fn clear(&mut self) {
        self.jar.clear();
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
