//! Simulated Proxmox VE cluster.
