//! `POST /api/auth/login` and `POST /api/auth/logout`.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use jarvis_domain::audit::{Decision, Outcome};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::error::{ApiJson, AppError, ErrorBody};
use crate::state::AppState;

/// Longest password we will hash: argon2 on megabytes of input is a cheap denial of service.
const MAX_PASSWORD_LEN: usize = 1024;

/// Login request.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct LoginRequest {
    /// The operator password.
    pub password: String,
}

/// A session token.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct LoginResponse {
    /// Bearer token for the API and the Socket.IO handshake (`auth: {token}`).
    pub token: String,
    /// When the token stops working.
    #[ts(type = "string")]
    pub expires_at: DateTime<Utc>,
}

/// The client address: the TCP peer, or the last X-Forwarded-For hop when behind a trusted proxy
/// (the last hop is the one our proxy appended; earlier ones are client-controlled).
fn client_ip(peer: SocketAddr, headers: &HeaderMap, trust_proxy: bool) -> IpAddr {
    if trust_proxy {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

/// Exchanges the operator password for a session token.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ErrorBody, description = "malformed body"),
        (status = 401, body = ErrorBody, description = "invalid_credentials"),
        (status = 429, body = ErrorBody, description = "rate_limited; see Retry-After"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let ip = client_ip(peer, &headers, state.config.trust_proxy);
    let limiter = &state.auth.limiter;
    if let Err(retry) = limiter.check(ip, Instant::now()) {
        state.metrics.login("rate_limited");
        tracing::warn!(%ip, "login refused: rate limited");
        return Err(AppError::rate_limited(retry.as_secs_f64().ceil() as u64));
    }
    if req.password.len() > MAX_PASSWORD_LEN {
        return Err(AppError::bad_request("invalid_body", "password is too long"));
    }
    // Hashing is bounded server-wide (memory and CPU): a full queue is refused before the
    // attempt counts against this address.
    let check = state.auth.admit_password_check().map_err(|busy| {
        state.metrics.login("busy");
        tracing::warn!(%ip, "login refused: {busy}");
        AppError::rate_limited(1)
    })?;
    // Count the attempt as a failure *before* the slow check, so parallel guesses cannot slip
    // past the limit while argon2 runs; a success clears it again.
    limiter.record_failure(ip, Instant::now());
    if !check.verify(req.password).await {
        state.metrics.login("failure");
        tracing::warn!(%ip, "login failed: wrong password");
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong password",
        ));
    }
    limiter.record_success(ip);
    state.metrics.login("success");
    let issued = state.auth.issue()?;
    tracing::info!(%ip, "operator logged in");
    Ok(Json(LoginResponse { token: issued.token, expires_at: issued.expires_at }))
}

/// Revokes the presented token.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    Operator(claims): Operator,
) -> Result<StatusCode, AppError> {
    state.auth.revoke(&claims).await.map_err(AppError::internal)?;
    tracing::info!("operator logged out");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/elevate` body.
#[derive(Debug, Deserialize, TS, ToSchema)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ElevateRequest {
    /// The override passkey (`JARVIS_OVERRIDE_KEY`).
    pub passkey: String,
}

/// `POST /api/auth/elevate` response.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ElevateResponse {
    /// When the elevation of this session ends.
    #[ts(type = "string")]
    pub elevated_until: DateTime<Utc>,
}

/// Elevates this session for five minutes with the override passkey: BLACK tools become
/// confirmable; RED still confirms; protected resources stay protected. Audited either way;
/// the passkey itself is never logged or stored.
#[utoipa::path(post, path = "/api/auth/elevate", tag = "auth", security(("bearer" = [])),
    request_body = ElevateRequest,
    responses((status = 200, body = ElevateResponse), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn elevate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Operator(claims): Operator,
    ApiJson(req): ApiJson<ElevateRequest>,
) -> Result<Json<ElevateResponse>, AppError> {
    let ip = client_ip(peer, &headers, state.config.trust_proxy);
    let limiter = &state.auth.elevate_limiter;
    if let Err(retry) = limiter.check(ip, Instant::now()) {
        return Err(AppError::rate_limited(retry.as_secs_f64().ceil() as u64));
    }
    limiter.record_failure(ip, Instant::now());
    let granted = state.guard.elevate(&claims.jti, &req.passkey);
    let audit = crate::db::audit::NewAudit {
        actor: "operator".into(),
        source: "api".into(),
        tool: None,
        args: None,
        tier: None,
        decision: Decision::Elevate,
        outcome: if granted.is_some() { Outcome::Success } else { Outcome::Denied },
        detail: None,
    };
    state.db.append_audit(audit).await.map_err(AppError::internal)?;
    match granted {
        Some(until) => {
            limiter.record_success(ip);
            tracing::warn!("session elevated with the override passkey");
            Ok(Json(ElevateResponse { elevated_until: until }))
        }
        None if !state.guard.override_configured() => Err(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "no override passkey is configured (JARVIS_OVERRIDE_KEY)",
        )),
        None => Err(AppError::new(StatusCode::FORBIDDEN, "forbidden", "wrong passkey")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_used_only_when_trusted() {
        let peer: SocketAddr = "10.0.0.9:5000".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 5.6.7.8".parse().unwrap());
        assert_eq!(client_ip(peer, &h, false), peer.ip());
        assert_eq!(client_ip(peer, &h, true), "5.6.7.8".parse::<IpAddr>().unwrap());
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_ip(peer, &h, true), peer.ip());
    }
}
