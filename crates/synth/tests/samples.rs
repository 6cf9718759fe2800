//! The committed samples are exactly what their scenarios generate; generation is
//! deterministic; pcapng and repeated timelines hold the same packets; tshark agrees with the
//! scenario's connection counts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use phonehome_decode::CaptureReader;
use phonehome_synth::{generate, GenerateOptions, Scenario};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scenario(name: &str) -> Scenario {
    let p = root().join(format!("data/scenarios/{name}.toml"));
    Scenario::parse(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn render(s: &Scenario, opts: GenerateOptions) -> Vec<u8> {
    let mut out = Vec::new();
    generate(s, opts, &mut out).unwrap();
    out
}

#[test]
fn committed_samples_are_regenerated_byte_for_byte() {
    for name in ["macos-catalina-install", "macos-catalina-firstboot"] {
        let fresh = render(&scenario(name), GenerateOptions::default());
        let committed = std::fs::read(root().join(format!("data/samples/{name}.pcap"))).unwrap();
        assert!(
            fresh == committed,
            "{name}: regenerate with phonehome-synth (see the scenario)"
        );
        assert_eq!(fresh, render(&scenario(name), GenerateOptions::default()));
    }
    let total: u64 = ["install", "firstboot"]
        .iter()
        .map(|n| {
            std::fs::metadata(root().join(format!("data/samples/macos-catalina-{n}.pcap")))
                .unwrap()
                .len()
        })
        .sum();
    assert!(total < 5 << 20, "samples take {total} bytes");
}

fn frames(bytes: Vec<u8>) -> (u64, u64) {
    let mut r = CaptureReader::from_bytes("generated", bytes).unwrap();
    let mut wire = 0u64;
    let mut n = 0;
    while let Some(f) = r.next_frame() {
        n += 1;
        wire += u64::from(f.orig_len);
    }
    assert!(r.warnings().is_empty(), "{:?}", r.warnings());
    (n, wire)
}

#[test]
fn pcapng_and_repeats_hold_the_same_packets() {
    let s = scenario("macos-catalina-firstboot");
    let pcap = frames(render(&s, GenerateOptions::default()));
    let ng = frames(render(
        &s,
        GenerateOptions {
            pcapng: true,
            repeat: 1,
            ..GenerateOptions::default()
        },
    ));
    assert_eq!(pcap, ng);
    let three = frames(render(
        &s,
        GenerateOptions {
            pcapng: false,
            repeat: 3,
            ..GenerateOptions::default()
        },
    ));
    assert_eq!(three, (pcap.0 * 3, pcap.1 * 3));
    // Whole bulk segments: the same frames, more bytes.
    let full = render(
        &s,
        GenerateOptions {
            full_payload: true,
            ..GenerateOptions::default()
        },
    );
    let full_frames = frames(full.clone());
    assert_eq!(full_frames.0, pcap.0);
    assert!(full.len() > 5 * render(&s, GenerateOptions::default()).len());
}

#[test]
fn bad_scenarios_are_refused() {
    assert!(Scenario::parse("name = 1").is_err());
    let no_server = "name = \"x\"\nstart = 0\n[client]\nip = \"10.0.0.2\"\nresolver = \"10.0.0.1\"\n[[contact]]\nat = 0.0\nhost = \"a\"\nproto = \"https\"\nservers = []\n";
    assert!(Scenario::parse(no_server).is_err());
    let nan = no_server
        .replace("servers = []", "servers = [\"17.0.0.1\"]")
        .replace("at = 0.0", "at = nan");
    assert!(Scenario::parse(&nan).is_err());
}

/// tshark's TCP conversations per server address (server port 80 or 443).
fn tshark_conversations(file: &Path) -> BTreeMap<String, usize> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-q", "-z", "conv,tcp"])
        .output()
        .expect("tshark runs");
    let mut n = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() > 3 && w[1] == "<->" {
            for side in [w[0], w[2]] {
                if let Some((ip, port)) = side.rsplit_once(':') {
                    if port == "443" || port == "80" {
                        *n.entry(ip.to_string()).or_default() += 1;
                    }
                }
            }
        }
    }
    n
}

#[test]
fn tshark_agrees_with_the_scenario_counts() {
    if !phonehome_testkit::have_tool("tshark") {
        return;
    }
    for name in ["macos-catalina-install", "macos-catalina-firstboot"] {
        let s = scenario(name);
        let file = root().join(format!("data/samples/{name}.pcap"));
        let conv = tshark_conversations(&file);
        for c in s
            .contacts
            .iter()
            .filter(|c| c.proto != phonehome_synth::scenario::Proto::Ntp)
        {
            let got: usize = c
                .servers
                .iter()
                .map(|a| conv.get(&a.to_string()).copied().unwrap_or(0))
                .sum();
            assert_eq!(got, c.connections as usize, "{name}: {}", c.host);
        }
        // No malformed frame anywhere.
        let bad = tshark_frames(
            &file,
            &[],
            "_ws.malformed || _ws.expert.severity >= warning",
        );
        assert!(bad.is_empty(), "{name}: {bad}");
    }
}

/// The frames of `file` that tshark (with `options`) shows for `filter`, as its summary lines.
fn tshark_frames(file: &Path, options: &[&str], filter: &str) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(options)
        .args(["-Y", filter])
        .output()
        .expect("tshark runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_client_profile_shapes_the_syn() {
    let text = "name = \"win\"\nstart = 1600000000\n[client]\nip = \"10.0.0.2\"\nresolver = \"10.0.0.1\"\nttl = 128\nwindow = 64240\nwscale = 8\necn = false\nlayout = \"windows\"\nmac = \"00:11:22:33:44:55\"\n[[contact]]\nat = 0.0\nhost = \"www.bing.com\"\nproto = \"https\"\nservers = [\"192.0.2.26\"]\nbytes_down = 3000\n";
    let s = Scenario::parse(text).unwrap();
    let bytes = render(&s, GenerateOptions::default());
    let mut r = CaptureReader::from_bytes("win", bytes).unwrap();
    let mut syn = None;
    while let Some(f) = r.next_frame() {
        let p = phonehome_decode::decode(&f).unwrap();
        if let Some(fp) = phonehome_decode::syn::fingerprint(&p, None) {
            if fp.kind == phonehome_decode::syn::SynKind::Syn {
                assert_eq!(p.src_mac, Some([0, 0x11, 0x22, 0x33, 0x44, 0x55]));
                syn = Some(fp);
                break;
            }
        }
    }
    let fp = syn.unwrap();
    assert_eq!(
        fp.tcpdump_normalised,
        "Flags [S], seq *, win 64240, options [mss 1460,nop,wscale 8,nop,nop,sackOK], length 0"
    );
    assert_eq!(
        fp.p0f,
        "4:128+0:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0"
    );
    assert!(Scenario::parse(&text.replace("windows", "amiga")).is_err());
}

#[test]
fn quic_contacts_are_read_by_tshark() {
    if !phonehome_testkit::have_tool("tshark") {
        return;
    }
    let text = "name = \"q\"\nstart = 1700000000\n[client]\nip = \"192.168.1.23\"\nresolver = \"192.168.1.1\"\n[[contact]]\nat = 0.0\nhost = \"gspe1-ssl.ls.apple.com\"\nproto = \"quic\"\nservers = [\"17.253.21.201\"]\nconnections = 2\nbytes_down = 50000\n";
    let s = Scenario::parse(text).unwrap();
    let dir = phonehome_testkit::TempDir::new("quic");
    let file = dir.path().join("q.pcap");
    std::fs::write(&file, render(&s, GenerateOptions::default())).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-Y",
            "quic && tls.handshake.type == 1",
            "-T",
            "fields",
            "-e",
            "tls.handshake.extensions_server_name",
        ])
        .output()
        .unwrap();
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(names, ["gspe1-ssl.ls.apple.com", "gspe1-ssl.ls.apple.com"]);
    let bad = tshark_frames(&file, &[], "_ws.malformed || _ws.expert.severity >= error");
    assert!(bad.is_empty(), "{bad}");
}

/// The benchmark mix (`--mix`): of four passes, the second tagged with a VLAN id, the third
/// over IPv6 with AAAA answers where the others have A answers, the fourth both with its HTTPS
/// contacts over QUIC; the first three hold the plain timeline's packets, and tshark finds no
/// bad checksum or malformed frame in them.
#[test]
fn a_mix_varies_its_passes() {
    let s = scenario("macos-catalina-install");
    let mix = |repeat| GenerateOptions {
        repeat,
        mix: true,
        ..GenerateOptions::default()
    };
    let plain = frames(render(&s, GenerateOptions::default()));
    let three = frames(render(&s, mix(3)));
    assert_eq!(
        three.0,
        plain.0 * 3,
        "the first three passes, packet for packet"
    );
    let bytes = render(&s, mix(4));
    let mut r = CaptureReader::from_bytes("mix", bytes.clone()).unwrap();
    let (mut vlans, mut v6, mut quic) = (BTreeMap::new(), 0u64, 0u64);
    let mut answered = std::collections::BTreeSet::new();
    let (mut v4_servers, mut v6_servers) = (
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    );
    while let Some(f) = r.next_frame() {
        let p = phonehome_decode::decode(&f).expect("every frame decodes");
        if let Some(id) = p.vlan {
            *vlans.entry(id).or_insert(0u64) += 1;
        }
        if p.ip.version == 6 {
            v6 += 1;
        }
        if let phonehome_decode::Transport::Tcp(h) = p.transport {
            if h.flags.has(phonehome_decode::tcp::TcpFlags::SYN) && h.dst_port == 443 {
                match p.ip.dst {
                    std::net::IpAddr::V4(a) => v4_servers.insert(a.octets()),
                    std::net::IpAddr::V6(a) => v6_servers.insert(a.octets()),
                };
            }
        }
        if let Some(phonehome_decode::app::App::Dns(m)) = phonehome_decode::app::dissect(&p) {
            for a in m.answers() {
                match a.data {
                    phonehome_decode::app::dns::RData::A(x) => answered.insert(x.octets().to_vec()),
                    phonehome_decode::app::dns::RData::Aaaa(x) => {
                        answered.insert(x.octets().to_vec())
                    }
                    _ => false,
                };
            }
        }
        let udp443 = matches!(p.transport, phonehome_decode::Transport::Udp(h) if h.dst_port == 443 || h.src_port == 443);
        if udp443 && p.vlan == Some(103) && p.ip.version == 6 {
            quic += 1;
        }
    }
    assert_eq!(vlans.keys().copied().collect::<Vec<_>>(), [101, 103]);
    assert!(v6 > plain.0, "two passes over IPv6: {v6} frames");
    assert!(quic > 100, "{quic} QUIC datagrams");
    // The same servers, by the same answers, in both families.
    let v6_of: std::collections::BTreeSet<[u8; 16]> = v4_servers
        .iter()
        .map(|a| phonehome_synth::build::ipv6_of(*a))
        .collect();
    assert_eq!(v6_servers, v6_of);
    let named = |v: Vec<Vec<u8>>| v.iter().filter(|a| answered.contains(*a)).count();
    let (n4, n6) = (
        named(v4_servers.iter().map(|a| a.to_vec()).collect()),
        named(v6_servers.iter().map(|a| a.to_vec()).collect()),
    );
    assert!(
        n4 > 0 && n4 == n6,
        "answered: {n4} IPv4 and {n6} IPv6 servers"
    );
    if !phonehome_testkit::have_tool("tshark") {
        return;
    }
    let dir = phonehome_testkit::TempDir::new("mix");
    let file = dir.path().join("mix.pcap");
    std::fs::write(&file, render(&s, mix(3))).unwrap();
    let checksums = [
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
    ];
    let filter = "_ws.malformed || _ws.expert.severity >= warning || vlan.id == 0";
    let bad = tshark_frames(&file, &checksums, filter);
    assert!(bad.is_empty(), "{bad}");
}
