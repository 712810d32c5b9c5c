//! Plain cookies: read from the request, set on the response.

use cookie::Cookie;

use crate::config::{check_attr, check_token};
use crate::{ConfigError, Session, SessionError};

/// Iterates the `name=value` pairs of a `Cookie` header value, trimming
/// blanks and one pair of surrounding quotes from each value.
pub(crate) fn pairs(header: &str) -> impl Iterator<Item = (&str, &str)> {
    // Cut at ASCII bytes only, so every piece of a `str` is a `str`.
    raw_pairs(header.as_bytes()).filter_map(|(name, value)| {
        Some((
            std::str::from_utf8(name).ok()?,
            std::str::from_utf8(value).ok()?,
        ))
    })
}

/// [`pairs`] over the header's bytes, as they came: the session cookie is
/// found without decoding the whole header first.
pub(crate) fn raw_pairs(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    // memchr finds each `;` a vector at a time: a sealed session cookie is
    // a few hundred bytes, and a byte-by-byte split was most of the scan.
    let mut rest = Some(header);
    std::iter::from_fn(move || {
        let text = rest?;
        Some(match memchr::memchr(b';', text) {
            Some(at) => {
                rest = Some(&text[at + 1..]);
                &text[..at]
            }
            None => {
                rest = None;
                text
            }
        })
    })
    .filter_map(|pair| {
        let eq = pair.iter().position(|&b| b == b'=')?;
        // Blanks around a pair are spaces and tabs (RFC 6265's OWS).
        let name = pair[..eq].trim_ascii();
        let mut value = pair[eq + 1..].trim_ascii();
        if let [b'"', inner @ .., b'"'] = value {
            value = inner;
        }
        (!name.is_empty()).then_some((name, value))
    })
}

/// The request's plain cookies and the cookies to set on the response.
///
/// Cheap to clone; every clone shares the same request. Get it from
/// [`Session::cookies`] or the adapter's `Cookies` extractor.
///
/// ```
/// use session_core::{Cookie, SessionCore, SessionConfig};
/// use session_core::cookie::SameSite;
///
/// let core = SessionCore::new(SessionConfig::default(), false);
/// let start = core.start([&b"username=Alice; theme=dark"[..]]);
/// let session = core.resume(start, None, session_core::Timestamp::EPOCH).session;
/// let cookies = session.cookies();
/// assert_eq!(cookies.get("username").as_deref(), Some("Alice"));
///
/// let mut c = Cookie::new("theme", "light");
/// c.set_path("/");
/// c.set_same_site(SameSite::Strict);
/// cookies.add(c)?;
/// # Ok::<(), session_core::SessionError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Cookies {
    pub(crate) session: Session,
}

impl Cookies {
    /// The value of the first request cookie called `name`, percent-decoded.
    /// The session cookie is not readable here.
    pub fn get(&self, name: &str) -> Option<String> {
        let inner = self.session.lock();
        if name == inner.config.name {
            return None;
        }
        let header = inner.request_cookies.as_deref()?;
        let (_, raw) = pairs(header).find(|(n, _)| *n == name)?;
        let decoded = Cookie::parse_encoded(format!("{name}={raw}")).ok()?;
        Some(decoded.value().to_owned())
    }

    /// Sets a cookie on the response, with whatever attributes it carries.
    ///
    /// The same rules as the session cookie's config: the name must be a
    /// valid token other than the session cookie's; the path and domain may
    /// not hold `;` or control characters; `__Host-` and `__Secure-` names,
    /// `SameSite=None` and `Partitioned` need `Secure`. The value is
    /// percent-encoded. After the response was committed it returns
    /// [`SessionError::Finished`].
    pub fn add(&self, cookie: Cookie<'static>) -> Result<(), SessionError> {
        let mut inner = self.session.lock();
        if inner.finished {
            return Err(SessionError::Finished);
        }
        check_token("cookie name", cookie.name())?;
        let secure = cookie.secure() == Some(true);
        if cookie.name().starts_with("__Host-")
            && (!secure || cookie.path() != Some("/") || cookie.domain().is_some())
        {
            return Err(ConfigError::HostPrefix.into());
        }
        if cookie.name().starts_with("__Secure-") && !secure {
            return Err(ConfigError::SecurePrefix.into());
        }
        if cookie.same_site() == Some(cookie::SameSite::None) && !secure {
            return Err(ConfigError::SameSiteNoneNeedsSecure.into());
        }
        if cookie.partitioned() == Some(true) && !secure {
            return Err(ConfigError::PartitionedNeedsSecure.into());
        }
        if cookie.name() == inner.config.name {
            return Err(ConfigError::Invalid {
                what: "cookie name",
                why: "is the session cookie's name",
            }
            .into());
        }
        if let Some(p) = cookie.path() {
            check_attr("cookie path", p)?;
        }
        if let Some(d) = cookie.domain() {
            check_attr("cookie domain", d)?;
        }
        inner.response_cookies.push(cookie.encoded().to_string());
        Ok(())
    }

    /// Tells the browser to drop a cookie. Give the same path and domain the
    /// cookie was set with.
    pub fn remove(&self, mut cookie: Cookie<'static>) -> Result<(), SessionError> {
        cookie.make_removal();
        self.add(cookie)
    }
}

#[cfg(test)]
mod tests {
    use super::raw_pairs;

    fn split(header: &str) -> Vec<(&str, &str)> {
        raw_pairs(header.as_bytes())
            .map(|(n, v)| {
                (
                    std::str::from_utf8(n).unwrap(),
                    std::str::from_utf8(v).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn pairs_are_cut_at_semicolons_and_trimmed() {
        assert_eq!(split("a=1; b=2"), [("a", "1"), ("b", "2")]);
        assert_eq!(split(" a = \"x y\" ;;c=;=v; d"), [("a", "x y"), ("c", "")]);
        assert_eq!(split("a=1;"), [("a", "1")]);
        assert_eq!(split(";a=b=c"), [("a", "b=c")]);
        assert!(split("").is_empty());
        assert!(split(";;;").is_empty());
    }
}
