//! The benchmark-sized cluster generates and serves one `/cluster/resources` answer.

use jarvis_sim::SimConfig;

use crate::common::*;

#[tokio::test]
async fn five_hundred_nodes_and_2500_guests() {
    let sim = start(SimConfig { nodes: 500, guests: 2500, ..test_config() }).await;
    let all = data(&sim, "/cluster/resources").await;
    let all = all.as_array().unwrap();
    assert!(all.len() >= 3000, "{} entries", all.len());
    let count = |ty: &str| all.iter().filter(|e| e["type"] == ty).count();
    assert_eq!(count("qemu") + count("lxc"), 2500);
    assert_eq!(count("node"), 500);
    assert_eq!(count("storage"), 1500);
    let st = data(&sim, "/cluster/status").await;
    assert_eq!(st.as_array().unwrap().len(), 501);
    let last = st.as_array().unwrap().last().unwrap();
    assert_eq!(last["ip"], "127.0.2.246", "node addresses continue past 127.0.1.254");
    sim.control().tick();
    assert_eq!(data(&sim, "/cluster/resources?type=vm").await.as_array().unwrap().len(), 2500);
    sim.shutdown().await;
}
