//! Login, tokens, logout revocation and the failed-login rate limit, over real HTTP.

use serde_json::{Value, json};

use crate::harness::{JWT_SECRET, Options, PASSWORD, TestServer};

async fn login_status(s: &TestServer, password: &str) -> reqwest::Response {
    s.http
        .post(s.url("/api/auth/login"))
        .json(&json!({ "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn login_gives_a_token_that_opens_protected_routes() {
    let s = TestServer::start().await;
    let r = login_status(&s, PASSWORD).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expiresAt"].as_str().unwrap()).unwrap();
    assert!(expires > chrono::Utc::now() + chrono::Duration::minutes(59));
    assert!(body["expiresAt"].as_str().unwrap().ends_with('Z'), "timestamps are UTC with Z");
    let (status, _) = s.get_json("/api/cluster", token).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn protected_routes_refuse_missing_bad_foreign_and_expired_tokens() {
    let s = TestServer::start().await;
    let r = s.http.get(s.url("/api/cluster")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    for token in ["garbage", "a.b.c", ""] {
        let (status, body) = s.get_json("/api/cluster", token).await;
        assert_eq!(status, 401, "token {token:?}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let r = s
        .http
        .get(s.url("/api/cluster"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let now = chrono::Utc::now().timestamp();
    let sign = |secret: &[u8], exp: i64| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &json!({"sub": "operator", "jti": "x", "iat": now - 10, "exp": exp}),
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let foreign = sign(b"another-secret-another-secret-another", now + 3600);
    assert_eq!(s.get_json("/api/cluster", &foreign).await.0, 401);
    let expired = sign(JWT_SECRET.as_bytes(), now - 1);
    assert_eq!(s.get_json("/api/cluster", &expired).await.0, 401);
    let valid = sign(JWT_SECRET.as_bytes(), now + 60);
    assert_eq!(
        s.get_json("/api/cluster", &valid).await.0,
        200,
        "control: a well-signed token works"
    );
    // /metrics is protected too.
    assert_eq!(s.http.get(s.url("/metrics")).send().await.unwrap().status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_revokes_only_that_token() {
    let s = TestServer::start().await;
    let a = s.login().await;
    let b = s.login().await;
    let r = s.http.post(s.url("/api/auth/logout")).bearer_auth(&a).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(s.get_json("/api/cluster", &a).await.0, 401);
    assert_eq!(s.get_json("/api/cluster", &b).await.0, 200);
    // Logging out twice with the revoked token is refused, not an error.
    let r = s.http.post(s.url("/api/auth/logout")).bearer_auth(&a).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn brute_force_is_rate_limited_with_retry_after() {
    let s = TestServer::start().await;
    for i in 0..5 {
        let r = login_status(&s, "wrong-password").await;
        assert_eq!(r.status(), 401, "attempt {i}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_credentials");
    }
    let r = login_status(&s, "wrong-password").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "retry-after {retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // While limited, even the right password is refused: the limit must stop guessing.
    assert_eq!(login_status(&s, PASSWORD).await.status(), 429);

    let metrics_token = {
        // A token minted with the server's secret (login is blocked for this IP right now).
        let now = chrono::Utc::now().timestamp();
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &json!({"sub": "operator", "jti": "m", "iat": now, "exp": now + 60}),
            &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        )
        .unwrap()
    };
    let text = s.http.get(s.url("/metrics")).bearer_auth(metrics_token).send().await.unwrap();
    let text = text.text().await.unwrap();
    assert!(text.contains("jarvis_logins_total{outcome=\"rate_limited\"} 2"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_guesses_cannot_exceed_the_limit() {
    let s = TestServer::start().await;
    let futures: Vec<_> = (0..12).map(|_| login_status(&s, "nope-nope-nope")).collect();
    let statuses: Vec<u16> =
        futures::future::join_all(futures).await.iter().map(|r| r.status().as_u16()).collect();
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    assert!(wrong <= 5, "at most 5 guesses may be checked, got {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
}

/// A login burst from many addresses is bounded server-wide: argon2 runs at most twice at once
/// (each holds ~19 MiB), the rest queue or get 429 — nothing crashes, every answer is a
/// well-formed 200, 401 or 429, and right passwords still log in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_logins_stay_within_the_hashing_bound() {
    let s = TestServer::start_opts(Options { trust_proxy: true, ..Options::default() }).await;
    let futures: Vec<_> = (0..50)
        .map(|i| {
            let password = if i % 2 == 0 { PASSWORD } else { "a wrong guess" };
            s.http
                .post(s.url("/api/auth/login"))
                .header("x-forwarded-for", format!("10.9.{}.{}", i / 200, i % 200 + 1))
                .json(&serde_json::json!({ "password": password }))
                .send()
        })
        .collect();
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for (i, r) in futures::future::join_all(futures).await.into_iter().enumerate() {
        let r = r.expect("every request gets an answer");
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.expect("a JSON body");
        match status {
            200 => assert_eq!(i % 2, 0, "only right passwords log in"),
            401 => assert_eq!(body["error"]["code"], "invalid_credentials"),
            429 => assert_eq!(body["error"]["code"], "rate_limited"),
            other => panic!("unexpected status {other}: {body}"),
        }
        *counts.entry(status).or_default() += 1;
    }
    assert!(counts.get(&200).copied().unwrap_or(0) >= 1, "{counts:?}");
    let token = s.login().await;
    let text = s
        .http
        .get(s.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let peak: i64 = text
        .lines()
        .find_map(|l| l.strip_prefix("jarvis_password_hashes_peak "))
        .expect("peak gauge exported")
        .trim()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&peak), "at most 2 hashes at once, saw {peak}");
    assert!(text.contains("jarvis_password_hashes_running 0"), "{text}");
}
