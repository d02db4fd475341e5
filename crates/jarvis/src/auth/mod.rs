//! Operator authentication: password login, session tokens (HS256 JWT with expiry and a unique
//! id), revocation on logout, and the failed-login rate limit.
//!
//! There is one operator (a homelab has one); the token proves "the operator logged in at `iat`".
//! Revoked token ids live in SQLite (so logout survives a restart) and in a memory set that every
//! request checks. [`Operator`] is the extractor every protected route takes; the Socket.IO
//! namespaces call [`AuthService::verify`] in their connect middleware.

pub mod password;
pub mod ratelimit;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use crate::config::{AuthConfig, PasswordSource};
use crate::db::{Db, DbError};
use crate::error::AppError;
use crate::state::AppState;

/// Password checks that may hash at once: each holds argon2's ~19 MiB working memory and one
/// core, so two keep a login burst from exhausting a small machine while a second browser tab
/// logging in never waits for the first.
const PARALLEL_HASHES: usize = 2;
/// Checks that may wait for a turn; more than that are refused (429) without hashing.
const WAITING_HASHES: usize = 32;

/// Claims inside a session token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Always `operator`.
    pub sub: String,
    /// Unique token id, the unit of revocation.
    pub jti: String,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Expires at (unix seconds).
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token was presented.
    #[error("missing bearer token")]
    Missing,
    /// Bad signature, malformed or expired.
    #[error("invalid or expired token")]
    Invalid,
    /// Logged out.
    #[error("token has been revoked")]
    Revoked,
}

/// An admitted password check against the operator's hash.
#[derive(Debug)]
pub struct PasswordCheck<'a> {
    ticket: password::Ticket<'a>,
    hash: &'a str,
}

impl PasswordCheck<'_> {
    /// Whether `candidate` is the operator password (argon2 on a blocking thread).
    pub async fn verify(self, candidate: String) -> bool {
        self.ticket.verify(candidate, self.hash.to_owned()).await
    }
}

/// A freshly issued session token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The encoded JWT.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Issues, verifies and revokes session tokens; checks passwords.
pub struct AuthService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    password_hash: String,
    /// Revoked token id → expiry (unix seconds); mirrors the `revoked_tokens` table.
    revoked: RwLock<HashMap<String, i64>>,
    db: Db,
    /// Failed-login limiter, keyed by client IP.
    pub limiter: ratelimit::LoginLimiter,
    /// Failed-elevation limiter, keyed by client IP.
    pub elevate_limiter: ratelimit::LoginLimiter,
    /// Bounds concurrent password hashing (memory and CPU under a login burst).
    pub hash_gate: password::HashGate,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

/// Installs the JWT crypto backend exactly once. jsonwebtoken panics at the first sign/verify
/// when no backend (or two) is active, so this is explicit rather than left to feature luck.
pub fn install_crypto() {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

impl AuthService {
    /// Builds the service, hashing a plain password (slow by design, so on a blocking thread)
    /// and loading the persisted revocations.
    pub async fn new(cfg: &AuthConfig, db: Db) -> Result<Arc<AuthService>, DbError> {
        install_crypto();
        let password_hash = match &cfg.password {
            PasswordSource::Hash(h) => h.clone(),
            PasswordSource::Plain(p) => {
                let p = p.expose().clone();
                tokio::task::spawn_blocking(move || password::hash(&p))
                    .await
                    .map_err(|e| DbError::Pool(e.to_string()))?
                    .map_err(DbError::Pool)?
            }
        };
        let secret = cfg.jwt_secret.expose().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub", "jti"]);
        let revoked = db.live_revoked_tokens(Utc::now().timestamp()).await?.into_iter().collect();
        Ok(Arc::new(AuthService {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl: cfg.token_ttl,
            password_hash,
            revoked: RwLock::new(revoked),
            db,
            limiter: ratelimit::LoginLimiter::new(5, Duration::from_secs(60)),
            elevate_limiter: ratelimit::LoginLimiter::new(5, Duration::from_secs(60)),
            hash_gate: password::HashGate::new(PARALLEL_HASHES, WAITING_HASHES),
        }))
    }

    /// A place in the password-check queue ([`password::Busy`] when it is full); its
    /// [`password::Ticket::verify`] checks a password against the operator's hash.
    pub fn admit_password_check(&self) -> Result<PasswordCheck<'_>, password::Busy> {
        Ok(PasswordCheck { ticket: self.hash_gate.admit()?, hash: &self.password_hash })
    }

    /// Verifies a password (waiting for a hashing slot); [`password::Busy`] when the queue is
    /// full.
    pub async fn check_password(&self, candidate: String) -> Result<bool, password::Busy> {
        Ok(self.admit_password_check()?.verify(candidate).await)
    }

    /// Issues a new session token.
    pub fn issue(&self) -> Result<IssuedToken, AppError> {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.ttl).map_err(AppError::internal)?;
        let expires_at = now + ttl;
        let claims = Claims {
            sub: "operator".into(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Verifies signature, expiry and revocation.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        if self.revoked.read().contains_key(&data.claims.jti) {
            return Err(TokenError::Revoked);
        }
        Ok(data.claims)
    }

    /// Revokes a token until its expiry: persisted first, so a crash cannot un-revoke it.
    pub async fn revoke(&self, claims: &Claims) -> Result<(), DbError> {
        self.db.revoke_token(claims.jti.clone(), claims.exp).await?;
        let now = Utc::now().timestamp();
        let mut set = self.revoked.write();
        set.retain(|_, exp| *exp > now);
        set.insert(claims.jti.clone(), claims.exp);
        Ok(())
    }
}

/// Extracts the bearer token from an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, TokenError> {
    let value = header.ok_or(TokenError::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(TokenError::Invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(TokenError::Invalid);
    }
    Ok(token.trim())
}

/// The authenticated operator: taking this extractor makes a route protected.
#[derive(Debug, Clone)]
pub struct Operator(pub Claims);

impl FromRequestParts<AppState> for Operator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let header =
            parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = bearer(header).map_err(|e| AppError::unauthorized(e.to_string()))?;
        state.auth.verify(token).map(Operator).map_err(|e| AppError::unauthorized(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    async fn service(ttl: Duration) -> (Arc<AuthService>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("a.db")).await.unwrap();
        let cfg = AuthConfig {
            jwt_secret: Secret::new("x".repeat(40)),
            token_ttl: ttl,
            password: PasswordSource::Plain(Secret::new("hunter2hunter2".into())),
        };
        (AuthService::new(&cfg, db).await.unwrap(), dir)
    }

    #[tokio::test]
    async fn issued_tokens_verify_and_revocation_sticks() {
        let (auth, _dir) = service(Duration::from_secs(3600)).await;
        assert_eq!(auth.check_password("hunter2hunter2".into()).await, Ok(true));
        assert_eq!(auth.check_password("hunter2".into()).await, Ok(false));
        let t = auth.issue().unwrap();
        let claims = auth.verify(&t.token).unwrap();
        assert_eq!(claims.sub, "operator");
        auth.revoke(&claims).await.unwrap();
        assert_eq!(auth.verify(&t.token).unwrap_err(), TokenError::Revoked);
        // A second token is unaffected.
        let t2 = auth.issue().unwrap();
        assert!(auth.verify(&t2.token).is_ok());
    }

    #[tokio::test]
    async fn tampered_foreign_and_expired_tokens_are_invalid() {
        let (auth, _dir) = service(Duration::from_secs(3600)).await;
        let t = auth.issue().unwrap().token;
        let mut tampered = t.clone();
        tampered.pop();
        tampered.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(auth.verify(&tampered).unwrap_err(), TokenError::Invalid);
        assert_eq!(auth.verify("not.a.jwt").unwrap_err(), TokenError::Invalid);

        let other = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims { sub: "operator".into(), jti: "j".into(), iat: 0, exp: i64::MAX / 2 },
            &EncodingKey::from_secret(b"some-other-secret-some-other-secret"),
        )
        .unwrap();
        assert_eq!(auth.verify(&other).unwrap_err(), TokenError::Invalid);

        let now = Utc::now().timestamp();
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims { sub: "operator".into(), jti: "k".into(), iat: now - 100, exp: now - 1 },
            &EncodingKey::from_secret("x".repeat(40).as_bytes()),
        )
        .unwrap();
        assert_eq!(auth.verify(&expired).unwrap_err(), TokenError::Invalid);
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Ok("abc"));
        assert_eq!(bearer(None), Err(TokenError::Missing));
        assert_eq!(bearer(Some("Basic abc")), Err(TokenError::Invalid));
        assert_eq!(bearer(Some("Bearer")), Err(TokenError::Invalid));
        assert_eq!(bearer(Some("Bearer ")), Err(TokenError::Invalid));
    }
}
