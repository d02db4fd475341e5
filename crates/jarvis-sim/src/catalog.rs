//! Static catalogues the generator draws from: the hand-made demo guests, roles for generated
//! guests, node hardware, and the PVE version strings the simulator claims to be.
//!
//! Kept apart from the model so the numbers that make the demo look like a real homelab are easy
//! to find and tune.

use jarvis_domain::GuestType;

/// PVE release the simulator impersonates (`/version`).
pub(crate) const PVE_RELEASE: &str = "9.1";
/// Full pve-manager version.
pub(crate) const PVE_VERSION: &str = "9.1.1";
/// Git revision of that pve-manager build.
pub(crate) const PVE_REPOID: &str = "42db4a6cf33dac83";
/// Running kernel release.
pub(crate) const KERNEL_RELEASE: &str = "6.17.2-1-pve";
/// Kernel build string.
pub(crate) const KERNEL_BUILD: &str = "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)";
/// QEMU version of running VMs.
pub(crate) const QEMU_VERSION: &str = "10.1.2";
/// Machine type prefix suffix used by running VMs.
pub(crate) const QEMU_MACHINE: &str = "10.1+pve0";

/// One hand-made guest of the demo cluster.
pub(crate) struct GuestSpec {
    pub name: &'static str,
    pub kind: GuestType,
    pub cores: u32,
    pub mem_mib: u64,
    pub disk_gib: u64,
    pub tags: &'static str,
    pub running: bool,
    pub template: bool,
    pub ostype: &'static str,
    /// Typical CPU load (fraction of the guest's cores).
    pub cpu_base: f64,
    /// Gets short bursts of load (CI runners, media transcoding).
    pub bursty: bool,
    /// Typical memory use (fraction of maxmem).
    pub mem_frac: f64,
    /// Typical network traffic in bytes per second (in, out).
    pub net_rate: (f64, f64),
    pub ha: bool,
    pub pool: Option<&'static str>,
    pub description: &'static str,
}

const fn spec(
    name: &'static str,
    kind: GuestType,
    cores: u32,
    mem_mib: u64,
    disk_gib: u64,
    tags: &'static str,
    running: bool,
) -> GuestSpec {
    GuestSpec {
        name,
        kind,
        cores,
        mem_mib,
        disk_gib,
        tags,
        running,
        template: false,
        ostype: match kind {
            GuestType::Qemu => "l26",
            GuestType::Lxc => "debian",
        },
        cpu_base: 0.05,
        bursty: false,
        mem_frac: 0.55,
        net_rate: (20_000.0, 8_000.0),
        ha: false,
        pool: None,
        description: "",
    }
}

use GuestType::{Lxc, Qemu};

/// The demo guests, in vmid order starting at 100 (the template gets 9000, as homelabs do).
pub(crate) fn demo_guests() -> [GuestSpec; 12] {
    [
        GuestSpec {
            cpu_base: 0.08,
            mem_frac: 0.45,
            net_rate: (180_000.0, 950_000.0),
            pool: Some("production"),
            description: "nginx + static site",
            ..spec("web-frontend", Qemu, 2, 2048, 32, "prod;web", true)
        },
        GuestSpec {
            cpu_base: 0.18,
            mem_frac: 0.82,
            net_rate: (400_000.0, 600_000.0),
            ha: true,
            pool: Some("production"),
            description: "PostgreSQL 16 primary",
            ..spec("postgres-main", Qemu, 4, 8192, 200, "db;prod", true)
        },
        GuestSpec {
            cpu_base: 0.32,
            mem_frac: 0.7,
            net_rate: (1_200_000.0, 800_000.0),
            ..spec("docker-host", Qemu, 8, 16384, 120, "docker;prod", true)
        },
        GuestSpec {
            cpu_base: 0.02,
            mem_frac: 0.35,
            net_rate: (45_000.0, 60_000.0),
            pool: Some("infra"),
            ..spec("pihole", Lxc, 1, 512, 8, "dns;infra", true)
        },
        GuestSpec {
            cpu_base: 0.06,
            mem_frac: 0.6,
            net_rate: (250_000.0, 400_000.0),
            ..spec("nextcloud", Lxc, 2, 4096, 100, "apps", true)
        },
        GuestSpec {
            cpu_base: 0.07,
            mem_frac: 0.5,
            net_rate: (60_000.0, 30_000.0),
            ha: true,
            ostype: "l26",
            description: "Home Assistant OS",
            ..spec("home-assistant", Qemu, 2, 4096, 32, "iot;prod", true)
        },
        GuestSpec {
            cpu_base: 0.12,
            bursty: true,
            mem_frac: 0.4,
            net_rate: (300_000.0, 90_000.0),
            ..spec("gitlab-runner", Lxc, 4, 8192, 64, "ci", true)
        },
        GuestSpec {
            ostype: "win11",
            cpu_base: 0.1,
            mem_frac: 0.65,
            ..spec("win11-desk", Qemu, 4, 8192, 128, "desktop", false)
        },
        GuestSpec {
            cpu_base: 0.04,
            mem_frac: 0.5,
            pool: Some("infra"),
            description: "Proxmox Backup Server",
            ..spec("backup-proxy", Qemu, 2, 4096, 64, "backup;infra", false)
        },
        GuestSpec {
            cpu_base: 0.1,
            bursty: true,
            mem_frac: 0.55,
            net_rate: (150_000.0, 2_500_000.0),
            ..spec("media-jellyfin", Lxc, 4, 4096, 40, "media", true)
        },
        GuestSpec {
            cpu_base: 0.09,
            mem_frac: 0.62,
            net_rate: (350_000.0, 120_000.0),
            pool: Some("infra"),
            description: "Prometheus + Grafana",
            ..spec("monitoring", Lxc, 2, 2048, 20, "infra;monitoring", true)
        },
        GuestSpec {
            template: true,
            description: "cloud-init template",
            ..spec("ubuntu-template", Qemu, 2, 2048, 16, "template", false)
        },
    ]
}

/// Roles for generated guests beyond the demo ones: (name prefix, kind, cores, MiB, GiB, tags).
pub(crate) const ROLES: [(&str, GuestType, u32, u64, u64, &str); 16] = [
    ("web", Qemu, 2, 2048, 32, "web"),
    ("app", Qemu, 4, 4096, 48, "app"),
    ("api", Lxc, 2, 2048, 16, "app"),
    ("db", Qemu, 8, 16384, 200, "db"),
    ("cache", Lxc, 2, 4096, 8, "cache"),
    ("k8s-worker", Qemu, 8, 16384, 100, "k8s"),
    ("k8s-cp", Qemu, 4, 8192, 50, "k8s"),
    ("ci-runner", Lxc, 4, 8192, 64, "ci"),
    ("mail", Lxc, 2, 2048, 32, "mail"),
    ("vpn", Lxc, 1, 512, 8, "net"),
    ("proxy", Lxc, 1, 1024, 8, "net"),
    ("log", Qemu, 4, 8192, 150, "observability"),
    ("metrics", Lxc, 2, 4096, 60, "observability"),
    ("dev", Qemu, 4, 8192, 80, "dev"),
    ("build", Qemu, 8, 16384, 120, "ci"),
    ("files", Lxc, 2, 2048, 200, "storage"),
];

/// A CPU the nodes can have: (model, sockets, cores per socket, threads, MHz string).
pub(crate) struct CpuSpec {
    pub model: &'static str,
    pub sockets: u32,
    pub cores: u32,
    pub threads: u32,
    pub mhz: &'static str,
}

/// Node CPUs, from mini PC to dual-socket server.
pub(crate) const CPUS: [CpuSpec; 6] = [
    CpuSpec {
        model: "AMD Ryzen 9 5950X 16-Core Processor",
        sockets: 1,
        cores: 16,
        threads: 32,
        mhz: "3400.000",
    },
    CpuSpec {
        model: "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz",
        sockets: 1,
        cores: 6,
        threads: 12,
        mhz: "3200.000",
    },
    CpuSpec {
        model: "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz",
        sockets: 2,
        cores: 14,
        threads: 56,
        mhz: "2400.000",
    },
    CpuSpec {
        model: "AMD EPYC 7302P 16-Core Processor",
        sockets: 1,
        cores: 16,
        threads: 32,
        mhz: "3000.000",
    },
    CpuSpec { model: "Intel(R) N100", sockets: 1, cores: 4, threads: 4, mhz: "806.000" },
    CpuSpec {
        model: "Intel(R) Core(TM) i5-12500T",
        sockets: 1,
        cores: 6,
        threads: 12,
        mhz: "2000.000",
    },
];

/// Installed memory per CPU (GiB), same index as [`CPUS`].
pub(crate) const MEM_GIB: [u64; 6] = [128, 64, 256, 128, 16, 64];

/// CPU flags reported in `cpuinfo.flags` (a plausible x86-64-v3 host).
pub(crate) const CPU_FLAGS: &str = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat \
pse36 clflush mmx fxsr sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology \
nonstop_tsc cpuid aperfmperf pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes \
xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpb hw_pstate ssbd ibrs ibpb stibp vmmcall fsgsbase bmi1 \
avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves \
clzero irperf xsaveerptr rdpru wbnoinvd arat npt lbrv svm_lock nrip_save tsc_scale vmcb_clean \
flushbyasid decodeassists pausefilter pfthreshold v_vmsave_vmload vgif umip pku ospke vaes vpclmulqdq \
rdpid overflow_recov succor smca fsrm";
