//! The example contract's handler bodies, identical in every framework.
//! Each app's handlers only unpack their framework's arguments and call
//! these.

use std::time::Duration;

use crate::adapter::session_core::{Cookie, Session, SessionError};

/// `GET /`: the user, and the flash when one arrived.
pub fn home(session: &Session) -> Result<String, SessionError> {
    let user: Option<String> = session.get("user")?;
    let mut body = format!("user: {}", user.as_deref().unwrap_or("none"));
    if let Some(notice) = session.flash().get::<String>("notice")? {
        body.push_str("\nflash: ");
        body.push_str(&notice);
    }
    Ok(body)
}

/// `GET /login/{id}`: a new session id (against fixation), the user, a flash.
pub fn login(session: &Session, id: &str) -> Result<String, SessionError> {
    session.renew();
    session.insert("user", id)?;
    session.flash().set("notice", &format!("Welcome, {id}"))?;
    Ok(format!("User set to: {id}"))
}

/// `GET /remove`: drops the user, keeps the rest.
pub fn remove(session: &Session) -> String {
    session.remove("user");
    "User removed".to_owned()
}

/// `GET /logout`: deletes the session and expires its cookie.
pub fn logout(session: &Session) -> String {
    session.destroy();
    "Session cleared".to_owned()
}

/// `GET /counter`.
pub fn counter(session: &Session) -> Result<String, SessionError> {
    let n: i64 = session.get("counter")?.unwrap_or(0);
    Ok(format!("counter: {n}"))
}

/// `GET /counter/incr`.
pub fn counter_incr(session: &Session) -> Result<String, SessionError> {
    let n = session
        .get::<i64>("counter")?
        .unwrap_or(0)
        .saturating_add(1);
    session.insert("counter", &n)?;
    Ok(format!("counter: {n}"))
}

/// `GET /cookie/set`: a plain cookie `username=Alice`.
pub fn cookie_set(session: &Session) -> Result<String, SessionError> {
    let cookie = Cookie::build(("username", "Alice"))
        .path("/")
        .http_only(true)
        .max_age(Duration::from_secs(3600).try_into().unwrap_or_default())
        .build();
    session.cookies().add(cookie)?;
    Ok("cookie set".to_owned())
}

/// `GET /cookie`.
pub fn cookie_get(session: &Session) -> String {
    let value = session.cookies().get("username");
    format!("username: {}", value.as_deref().unwrap_or("none"))
}
