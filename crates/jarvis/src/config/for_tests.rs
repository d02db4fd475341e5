//! [`Config::for_tests`]: the configuration the integration tests and benchmarks start from.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use jarvis_proxmox::PveConfig;

use super::{
    AuthConfig, Config, LlmSettings, MonitorConfig, PasswordSource, SafetyConfig, Secret, notify,
};

impl Config {
    /// A complete configuration for tests and benchmarks: loopback on port 0, a plain password
    /// and JWT secret, fast polls, and every background actor that would act on its own (the
    /// monitor's tiers, temperatures, notifications) off until a test turns it on.
    pub fn for_tests(pve: PveConfig, db_path: PathBuf, password: &str, jwt_secret: &str) -> Config {
        Config {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            db_path,
            auth: AuthConfig {
                jwt_secret: Secret::new(jwt_secret.into()),
                token_ttl: Duration::from_secs(3600),
                password: PasswordSource::Plain(Secret::new(password.into())),
            },
            pve,
            poll_interval: Duration::from_millis(300),
            trust_proxy: false,
            max_body_bytes: 1024 * 1024,
            demo: false,
            safety: SafetyConfig::default(),
            ssh: None,
            temperature_interval: None,
            mcp_allowed_hosts: Vec::new(),
            llm: LlmSettings::default(),
            monitor: MonitorConfig { intervals: [None; 4], ..MonitorConfig::default() },
            // Off like the monitor: a test runs retention itself, at the time it chooses.
            retention: super::retention::RetentionConfig {
                interval: None,
                ..super::retention::RetentionConfig::default()
            },
            notify: notify::NotifyConfig::default(),
        }
    }
}
