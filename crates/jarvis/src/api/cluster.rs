//! `GET /api/cluster`: the current snapshot of the one cluster state (never a PVE round trip).

use axum::Json;
use axum::extract::State;
use jarvis_domain::ClusterSnapshot;

use crate::auth::Operator;
use crate::error::ErrorBody;
use crate::state::AppState;

/// The cluster as last polled: nodes, guests, storage, quorum and the staleness marker.
#[utoipa::path(get, path = "/api/cluster", tag = "cluster", security(("bearer" = [])),
    responses((status = 200, body = ClusterSnapshot), (status = 401, body = ErrorBody)))]
pub async fn get_cluster(_op: Operator, State(state): State<AppState>) -> Json<ClusterSnapshot> {
    Json(state.cluster.snapshot().as_ref().clone())
}
