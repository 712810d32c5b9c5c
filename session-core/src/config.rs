//! Session configuration: cookie attributes, timeouts and policies,
//! validated once when built.

use std::time::Duration;

pub use cookie::SameSite;

/// The longest timeout accepted: 400 days, the cap browsers put on cookies.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(400 * 24 * 3600);

/// A timed-out record is kept at least this long past its deadline, so that
/// a client that comes back late is still told "timed out".
pub const MIN_TIMED_OUT_GRACE: Duration = Duration::from_secs(600);

/// What happens when a request arrives with a session that has timed out.
///
/// Either way the old record is deleted first.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum OnTimeout {
    /// Go on with a fresh, empty session (the default).
    #[default]
    NewSession,
    /// Answer `303 See Other` to this location and expire the cookie
    /// (Luminus redirects to `/`). The handler does not run.
    Redirect(String),
}

/// How long the browser keeps the session cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CookieLifetime {
    /// No `Max-Age`: the browser drops the cookie when it closes (the default).
    #[default]
    BrowserSession,
    /// `Max-Age` and `Expires` set to the session's deadline, refreshed
    /// whenever the deadline moves.
    Persistent,
}

/// Validated session settings. Build one with [`SessionConfig::builder`];
/// [`SessionConfig::default`] is valid as it is.
///
/// Defaults: cookie `session`, `Path=/`, `HttpOnly`, `Secure`,
/// `SameSite=Lax`, no `Domain`, a browser-session cookie, a 30-minute idle
/// timeout, no absolute timeout, a touch once a quarter of the idle window
/// has passed, a fresh session on timeout, no commit on 5xx responses.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: Option<SameSite>,
    pub(crate) partitioned: bool,
    pub(crate) lifetime: CookieLifetime,
    pub(crate) idle_timeout: Duration,
    pub(crate) absolute_timeout: Option<Duration>,
    pub(crate) touch_fraction: f64,
    pub(crate) on_timeout: OnTimeout,
    pub(crate) commit_on_server_error: bool,
    pub(crate) max_value_bytes: usize,
    /// `; Path=/; HttpOnly; …`, rendered once.
    pub(crate) attr_suffix: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        // The default builder is valid by construction (checked by a test).
        SessionConfigBuilder::default().finish()
    }
}

impl SessionConfig {
    /// Starts from the secure defaults.
    ///
    /// ```
    /// use std::time::Duration;
    /// use session_core::{OnTimeout, SessionConfig};
    ///
    /// let config = SessionConfig::builder()
    ///     .cookie_name("example-app-sessions")
    ///     .idle_timeout(Duration::from_secs(600))
    ///     .on_timeout(OnTimeout::Redirect("/".into()))
    ///     .build()?;
    /// assert_eq!(config.cookie_name(), "example-app-sessions");
    ///
    /// // A `__Host-` cookie may not carry a Domain.
    /// let err = SessionConfig::builder()
    ///     .cookie_name("__Host-id")
    ///     .domain("example.com")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("__Host-"));
    /// # Ok::<(), session_core::ConfigError>(())
    /// ```
    pub fn builder() -> SessionConfigBuilder {
        SessionConfigBuilder::default()
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.name
    }

    /// The cookie's `Path`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The cookie's `Domain`, if any.
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// Whether the cookie is `Secure`.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Whether the cookie is `HttpOnly`.
    pub fn http_only(&self) -> bool {
        self.http_only
    }

    /// The cookie's `SameSite`, if any.
    pub fn same_site(&self) -> Option<SameSite> {
        self.same_site
    }

    /// Whether the cookie is `Partitioned`.
    pub fn partitioned(&self) -> bool {
        self.partitioned
    }

    /// Browser-session or persistent cookie.
    pub fn lifetime(&self) -> CookieLifetime {
        self.lifetime
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The absolute timeout, if any.
    pub fn absolute_timeout(&self) -> Option<Duration> {
        self.absolute_timeout
    }

    /// What a timed-out request gets.
    pub fn on_timeout(&self) -> &OnTimeout {
        &self.on_timeout
    }

    /// How long a timed-out record is kept past its deadline: one idle
    /// period, but at least [`MIN_TIMED_OUT_GRACE`].
    pub fn timed_out_grace(&self) -> Duration {
        self.idle_timeout.max(MIN_TIMED_OUT_GRACE)
    }

    /// Bytes the session cookie's name and attributes take in a
    /// `Set-Cookie` header, besides the value. A client-side store uses it to
    /// keep the whole header within the browser's 4096-byte limit.
    pub fn cookie_overhead(&self) -> usize {
        // "name=" + attributes + the longest Max-Age/Expires pair.
        self.name.len() + 1 + self.attr_suffix.len() + 60
    }
}

/// Builder for [`SessionConfig`]; [`build`](Self::build) validates.
#[derive(Clone, Debug)]
pub struct SessionConfigBuilder {
    name: String,
    path: String,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
    partitioned: bool,
    lifetime: CookieLifetime,
    idle_timeout: Duration,
    absolute_timeout: Option<Duration>,
    touch_fraction: f64,
    on_timeout: OnTimeout,
    commit_on_server_error: bool,
    max_value_bytes: usize,
}

impl Default for SessionConfigBuilder {
    fn default() -> Self {
        Self {
            name: "session".into(),
            path: "/".into(),
            domain: None,
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Lax),
            partitioned: false,
            lifetime: CookieLifetime::BrowserSession,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: None,
            touch_fraction: 0.25,
            on_timeout: OnTimeout::NewSession,
            commit_on_server_error: false,
            max_value_bytes: 256 * 1024,
        }
    }
}

impl SessionConfigBuilder {
    /// The session cookie's name (default `session`).
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// The cookie's `Path` (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
    /// The cookie's `Domain` (default none: host-only).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }
    /// `Secure` (default on). Turn off only for plain-HTTP development.
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }
    /// `HttpOnly` (default on).
    pub fn http_only(mut self, on: bool) -> Self {
        self.http_only = on;
        self
    }
    /// `SameSite` (default `Lax`); `None` here omits the attribute.
    pub fn same_site(mut self, same_site: Option<SameSite>) -> Self {
        self.same_site = same_site;
        self
    }
    /// `Partitioned` (CHIPS; default off). Needs `Secure`.
    pub fn partitioned(mut self, on: bool) -> Self {
        self.partitioned = on;
        self
    }
    /// Browser-session or persistent cookie (default browser-session).
    pub fn lifetime(mut self, lifetime: CookieLifetime) -> Self {
        self.lifetime = lifetime;
        self
    }
    /// The idle timeout (default 30 minutes).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }
    /// An absolute timeout counted from the session's creation (default none).
    pub fn absolute_timeout(mut self, d: Option<Duration>) -> Self {
        self.absolute_timeout = d;
        self
    }
    /// The fraction of the idle window that must pass before a read-only
    /// request extends the deadline with a touch (default 0.25; between 0
    /// and 1), counted up to the request's arrival. Smaller means more
    /// touches and a more exact idle timeout.
    pub fn touch_fraction(mut self, fraction: f64) -> Self {
        self.touch_fraction = fraction;
        self
    }
    /// What a timed-out request gets (default a fresh session).
    pub fn on_timeout(mut self, on_timeout: OnTimeout) -> Self {
        self.on_timeout = on_timeout;
        self
    }
    /// Commit the session even when the handler answered 5xx (default off).
    pub fn commit_on_server_error(mut self, on: bool) -> Self {
        self.commit_on_server_error = on;
        self
    }
    /// The largest serialized value `insert` accepts (default 256 KiB).
    pub fn max_value_bytes(mut self, n: usize) -> Self {
        self.max_value_bytes = n;
        self
    }

    /// Checks the settings and returns the config, or what is wrong.
    pub fn build(self) -> Result<SessionConfig, ConfigError> {
        check_token("cookie name", &self.name)?;
        check_attr("path", &self.path)?;
        if !self.path.starts_with('/') {
            return Err(ConfigError::Invalid {
                what: "path",
                why: "must start with '/'",
            });
        }
        if let Some(d) = &self.domain {
            check_attr("domain", d)?;
            if d.is_empty() {
                return Err(ConfigError::Invalid {
                    what: "domain",
                    why: "is empty",
                });
            }
        }
        if self.name.starts_with("__Host-")
            && (!self.secure || self.path != "/" || self.domain.is_some())
        {
            return Err(ConfigError::HostPrefix);
        }
        if self.name.starts_with("__Secure-") && !self.secure {
            return Err(ConfigError::SecurePrefix);
        }
        if self.same_site == Some(SameSite::None) && !self.secure {
            return Err(ConfigError::SameSiteNoneNeedsSecure);
        }
        if self.partitioned && !self.secure {
            return Err(ConfigError::PartitionedNeedsSecure);
        }
        if self.idle_timeout.is_zero() || self.idle_timeout > MAX_TIMEOUT {
            return Err(ConfigError::Timeout("idle timeout"));
        }
        if let Some(a) = self.absolute_timeout {
            if a.is_zero() || a > MAX_TIMEOUT {
                return Err(ConfigError::Timeout("absolute timeout"));
            }
        }
        if !(self.touch_fraction > 0.0 && self.touch_fraction < 1.0) {
            return Err(ConfigError::Invalid {
                what: "touch fraction",
                why: "must lie strictly between 0 and 1",
            });
        }
        if let OnTimeout::Redirect(loc) = &self.on_timeout {
            if loc.is_empty() || loc.bytes().any(|b| b.is_ascii_control()) {
                return Err(ConfigError::Invalid {
                    what: "timeout redirect location",
                    why: "is empty or holds control characters",
                });
            }
        }
        Ok(self.finish())
    }

    fn finish(self) -> SessionConfig {
        let mut suffix = format!("; Path={}", self.path);
        if let Some(d) = &self.domain {
            suffix.push_str("; Domain=");
            suffix.push_str(d);
        }
        if self.http_only {
            suffix.push_str("; HttpOnly");
        }
        if self.secure {
            suffix.push_str("; Secure");
        }
        if let Some(s) = self.same_site {
            suffix.push_str("; SameSite=");
            suffix.push_str(match s {
                SameSite::Strict => "Strict",
                SameSite::Lax => "Lax",
                SameSite::None => "None",
            });
        }
        if self.partitioned {
            suffix.push_str("; Partitioned");
        }
        SessionConfig {
            name: self.name,
            path: self.path,
            domain: self.domain,
            secure: self.secure,
            http_only: self.http_only,
            same_site: self.same_site,
            partitioned: self.partitioned,
            lifetime: self.lifetime,
            idle_timeout: self.idle_timeout,
            absolute_timeout: self.absolute_timeout,
            touch_fraction: self.touch_fraction,
            on_timeout: self.on_timeout,
            commit_on_server_error: self.commit_on_server_error,
            max_value_bytes: self.max_value_bytes,
            attr_suffix: suffix,
        }
    }
}

/// A cookie name must be an RFC 6265 token.
pub(crate) fn check_token(what: &'static str, name: &str) -> Result<(), ConfigError> {
    if name.is_empty() {
        return Err(ConfigError::Invalid {
            what,
            why: "is empty",
        });
    }
    if let Some(c) = name
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control() || " \t\"(),/:;<=>?@[\\]{}".contains(*c))
    {
        return Err(ConfigError::BadChar { what, ch: c });
    }
    Ok(())
}

/// An attribute value may not end the attribute or the header.
pub(crate) fn check_attr(what: &'static str, value: &str) -> Result<(), ConfigError> {
    match value.chars().find(|c| *c == ';' || c.is_control()) {
        Some(ch) => Err(ConfigError::BadChar { what, ch }),
        None => Ok(()),
    }
}

/// What is wrong with a session configuration or a cookie.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A character that would break the `Set-Cookie` header.
    #[error("{what} holds a forbidden character {ch:?}")]
    BadChar {
        /// Which setting.
        what: &'static str,
        /// The offending character.
        ch: char,
    },
    /// A setting out of its range.
    #[error("{what} {why}")]
    Invalid {
        /// Which setting.
        what: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `__Host-` cookies need `Secure`, `Path=/` and no `Domain`.
    #[error("a __Host- cookie needs Secure, Path=/ and no Domain")]
    HostPrefix,
    /// `__Secure-` cookies need `Secure`.
    #[error("a __Secure- cookie needs Secure")]
    SecurePrefix,
    /// Browsers reject `SameSite=None` without `Secure`.
    #[error("SameSite=None needs Secure")]
    SameSiteNoneNeedsSecure,
    /// Browsers reject `Partitioned` without `Secure`.
    #[error("Partitioned needs Secure")]
    PartitionedNeedsSecure,
    /// A timeout of zero or longer than 400 days.
    #[error("{0} must be between 1 ms and 400 days")]
    Timeout(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_secure() {
        let c = SessionConfig::builder().build().unwrap();
        assert_eq!(c.attr_suffix, "; Path=/; HttpOnly; Secure; SameSite=Lax");
        assert_eq!(
            SessionConfig::default().attr_suffix,
            c.attr_suffix,
            "Default must equal the validated builder"
        );
    }

    #[test]
    fn each_rule_is_checked() {
        let b = SessionConfig::builder;
        assert_eq!(
            b().cookie_name("__Host-x").path("/a").build().unwrap_err(),
            ConfigError::HostPrefix
        );
        assert_eq!(
            b().cookie_name("__Host-x")
                .secure(false)
                .build()
                .unwrap_err(),
            ConfigError::HostPrefix
        );
        assert!(b().cookie_name("__Host-x").build().is_ok());
        assert_eq!(
            b().cookie_name("__Secure-x")
                .secure(false)
                .build()
                .unwrap_err(),
            ConfigError::SecurePrefix
        );
        assert_eq!(
            b().same_site(Some(SameSite::None))
                .secure(false)
                .build()
                .unwrap_err(),
            ConfigError::SameSiteNoneNeedsSecure
        );
        assert_eq!(
            b().partitioned(true).secure(false).build().unwrap_err(),
            ConfigError::PartitionedNeedsSecure
        );
        for bad in ["a;b", "a b", "", "a\r\n", "é"] {
            assert!(b().cookie_name(bad).build().is_err(), "{bad:?}");
        }
        assert!(matches!(
            b().path("/x;Domain=evil").build(),
            Err(ConfigError::BadChar { what: "path", .. })
        ));
        assert!(b().domain("a.com\r\nX: y").build().is_err());
        assert!(b().idle_timeout(Duration::ZERO).build().is_err());
        assert!(b().idle_timeout(MAX_TIMEOUT * 2).build().is_err());
        assert!(b().touch_fraction(1.0).build().is_err());
        assert!(b()
            .on_timeout(OnTimeout::Redirect("/\r\nx".into()))
            .build()
            .is_err());
    }
}
