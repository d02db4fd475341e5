//! Jarvis server.
