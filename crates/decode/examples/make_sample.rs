//! `make_sample`: writes `data/samples/handmade.pcap`, a small capture built packet by packet
//! from the facts of the seed case (a Mac's first contacts: NTP to time.apple.com, the captive
//! probe to www.apple.com, HTTPS to albert.apple.com with the Catalina SYN), with correct
//! checksums so that tshark reads it with no malformed frame. The scenario generator issue
//! replaces this with a full generator; until then this is the README's sample input.
//!
//! Usage: `cargo run -p phonehome-decode --example make_sample -- [OUT]`

use std::net::Ipv4Addr;

const MAC_CLIENT: [u8; 6] = [0xa4, 0x83, 0xe7, 0x12, 0x34, 0x56];
const MAC_ROUTER: [u8; 6] = [0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc];
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 23);
const RESOLVER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);

struct Pcap {
    out: Vec<u8>,
    t_us: u64,
    ip_id: u16,
}

fn checksum(data: &[u8], mut sum: u32) -> u16 {
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut s = 0u32;
    for w in [src.octets(), dst.octets()] {
        s += u32::from(u16::from_be_bytes([w[0], w[1]]))
            + u32::from(u16::from_be_bytes([w[2], w[3]]));
    }
    s + u32::from(proto) + len as u32
}

impl Pcap {
    fn new() -> Pcap {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        // 2019-10-15 18:00:00 UTC, the week of the diary.
        Pcap {
            out,
            t_us: 1_571_162_400_000_000,
            ip_id: 0x1000,
        }
    }

    fn frame(&mut self, gap_us: u64, src: Ipv4Addr, dst: Ipv4Addr, proto: u8, l4: Vec<u8>) {
        self.t_us += gap_us;
        let outbound = src == CLIENT;
        let (smac, dmac) = if outbound {
            (MAC_CLIENT, MAC_ROUTER)
        } else {
            (MAC_ROUTER, MAC_CLIENT)
        };
        let total = 20 + l4.len();
        let mut ip = vec![0x45, 0, (total >> 8) as u8, total as u8];
        self.ip_id = self.ip_id.wrapping_add(1);
        ip.extend_from_slice(&self.ip_id.to_be_bytes());
        ip.extend_from_slice(&[0x40, 0, if outbound { 64 } else { 54 }, proto, 0, 0]);
        ip.extend_from_slice(&src.octets());
        ip.extend_from_slice(&dst.octets());
        let c = checksum(&ip, 0);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut f = Vec::new();
        f.extend_from_slice(&dmac);
        f.extend_from_slice(&smac);
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend(ip);
        f.extend(l4);
        let (s, us) = (self.t_us / 1_000_000, self.t_us % 1_000_000);
        self.out.extend_from_slice(&(s as u32).to_le_bytes());
        self.out.extend_from_slice(&(us as u32).to_le_bytes());
        self.out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        self.out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        self.out.extend(f);
    }

    fn udp(&mut self, gap_us: u64, src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) {
        let len = 8 + payload.len();
        let mut u = Vec::new();
        u.extend_from_slice(&src.1.to_be_bytes());
        u.extend_from_slice(&dst.1.to_be_bytes());
        u.extend_from_slice(&(len as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        let c = checksum(&u, pseudo(src.0, dst.0, 17, len));
        u[6..8].copy_from_slice(&c.to_be_bytes());
        self.frame(gap_us, src.0, dst.0, 17, u);
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        gap_us: u64,
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        seq: u32,
        ack: u32,
        flags: u8,
        opts: &[u8],
        payload: &[u8],
    ) {
        let hlen = 20 + opts.len();
        let mut t = Vec::new();
        t.extend_from_slice(&src.1.to_be_bytes());
        t.extend_from_slice(&dst.1.to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&ack.to_be_bytes());
        t.push(((hlen / 4) as u8) << 4);
        t.push(flags);
        t.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
        t.extend_from_slice(opts);
        t.extend_from_slice(payload);
        let c = checksum(&t, pseudo(src.0, dst.0, 6, t.len()));
        t[16..18].copy_from_slice(&c.to_be_bytes());
        self.frame(gap_us, src.0, dst.0, 6, t);
    }

    /// A DNS query and its answer: `name` -> CNAME chain -> A `addr`.
    fn dns(&mut self, port: u16, id: u16, name: &str, cnames: &[&str], addr: Ipv4Addr) {
        let q = dns_msg(id, false, name, cnames, addr);
        self.udp(2_000, (CLIENT, port), (RESOLVER, 53), &q);
        let r = dns_msg(id, true, name, cnames, addr);
        self.udp(18_000, (RESOLVER, 53), (CLIENT, port), &r);
    }

    /// A whole TCP connection: Catalina SYN, handshake, one request and one response, FIN.
    fn connection(
        &mut self,
        port: u16,
        server: Ipv4Addr,
        sport: u16,
        request: &[u8],
        response: &[u8],
    ) {
        let c = (CLIENT, port);
        let s = (server, sport);
        let ts = (self.t_us / 1000) as u32;
        let mut syn_opts = vec![2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10];
        syn_opts.extend_from_slice(&ts.to_be_bytes());
        syn_opts.extend_from_slice(&[0, 0, 0, 0, 4, 2, 0, 0]);
        let (cs, ss) = (0x1000_0000u32 + u32::from(port), 0x5000_0000u32);
        self.tcp(50_000, c, s, cs, 0, 0xc2, &syn_opts, &[]);
        self.tcp(
            25_000,
            s,
            c,
            ss,
            cs + 1,
            0x12 | 0x40,
            &[2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 8],
            &[],
        );
        self.tcp(200, c, s, cs + 1, ss + 1, 0x10, &[], &[]);
        self.tcp(300, c, s, cs + 1, ss + 1, 0x18, &[], request);
        let mut sent = 0usize;
        for chunk in response.chunks(1448) {
            self.tcp(
                20_000,
                s,
                c,
                ss + 1 + sent as u32,
                cs + 1 + request.len() as u32,
                0x10,
                &[],
                chunk,
            );
            sent += chunk.len();
        }
        let (ca, sa) = (cs + 1 + request.len() as u32, ss + 1 + sent as u32);
        self.tcp(300, c, s, ca, sa, 0x10, &[], &[]);
        self.tcp(1_000, c, s, ca, sa, 0x11, &[], &[]);
        self.tcp(20_000, s, c, sa, ca + 1, 0x11, &[], &[]);
        self.tcp(200, c, s, ca + 1, sa + 1, 0x10, &[], &[]);
    }
}

fn name_bytes(n: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in n.split('.') {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

fn dns_msg(id: u16, response: bool, name: &str, cnames: &[&str], addr: Ipv4Addr) -> Vec<u8> {
    let answers = if response { cnames.len() + 1 } else { 0 };
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(if response {
        &[0x81, 0x80]
    } else {
        &[0x01, 0x00]
    });
    m.extend_from_slice(&[0, 1, 0, answers as u8, 0, 0, 0, 0]);
    m.extend(name_bytes(name));
    m.extend_from_slice(&[0, 1, 0, 1]);
    if !response {
        return m;
    }
    let mut owner = name.to_string();
    for c in cnames {
        m.extend(name_bytes(&owner));
        let target = name_bytes(c);
        m.extend_from_slice(&[0, 5, 0, 1, 0, 0, 0x0e, 0x10]);
        m.extend_from_slice(&(target.len() as u16).to_be_bytes());
        m.extend(target);
        owner = c.to_string();
    }
    m.extend(name_bytes(&owner));
    m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
    m.extend_from_slice(&addr.octets());
    m
}

fn client_hello(host: &str) -> Vec<u8> {
    let ext = |ty: u16, body: &[u8]| {
        let mut v = ty.to_be_bytes().to_vec();
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    };
    let mut sni = ((host.len() + 3) as u16).to_be_bytes().to_vec();
    sni.push(0);
    sni.extend_from_slice(&(host.len() as u16).to_be_bytes());
    sni.extend_from_slice(host.as_bytes());
    let mut exts = ext(0, &sni);
    exts.extend(ext(10, &[0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]));
    exts.extend(ext(11, &[1, 0]));
    exts.extend(ext(13, &[0, 6, 4, 3, 8, 4, 4, 1]));
    exts.extend(ext(
        16,
        &[
            0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
        ],
    ));
    exts.extend(ext(43, &[4, 3, 4, 3, 3]));
    let mut body = vec![3, 3];
    body.extend((0u8..32).map(|i| i.wrapping_mul(37)));
    body.push(0);
    body.extend_from_slice(&[0, 6, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f, 1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend(body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

/// Builds the sample capture.
fn build() -> Vec<u8> {
    let mut p = Pcap::new();
    let time = Ipv4Addr::new(17, 253, 4, 125);
    p.dns(
        50_101,
        0x1a01,
        "time.apple.com",
        &["time.g.aaplimg.com"],
        time,
    );
    let mut ntp = [0u8; 48];
    ntp[0] = 0x23;
    p.udp(5_000, (CLIENT, 123), (time, 123), &ntp);
    ntp[0] = 0x24;
    ntp[1] = 1;
    ntp[12..16].copy_from_slice(b"GPSs");
    p.udp(30_000, (time, 123), (CLIENT, 123), &ntp);
    let www = Ipv4Addr::new(23, 52, 176, 44);
    p.dns(
        50_102,
        0x1a02,
        "www.apple.com",
        &["www.apple.com.edgekey.net", "e6858.dscx.akamaiedge.net"],
        www,
    );
    let probe = b"GET /library/test/success.html HTTP/1.0\r\nHost: www.apple.com\r\nConnection: close\r\nUser-Agent: CaptiveNetworkSupport-390 wispr\r\n\r\n";
    let reply = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 68\r\n\r\n<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>";
    p.connection(49_152, www, 80, probe, reply);
    let albert = Ipv4Addr::new(17, 32, 194, 2);
    p.dns(50_103, 0x1a03, "albert.apple.com", &[], albert);
    let server_flight: Vec<u8> = (0..4000u32).map(|i| (i * 7) as u8).collect();
    p.connection(
        49_153,
        albert,
        443,
        &client_hello("albert.apple.com"),
        &server_flight,
    );
    let ocsp = Ipv4Addr::new(17, 253, 21, 203);
    p.dns(
        50_104,
        0x1a04,
        "ocsp.apple.com",
        &["ocsp-lb.apple.com.akadns.net"],
        ocsp,
    );
    let req = b"POST / HTTP/1.1\r\nHost: ocsp.apple.com\r\nContent-Type: application/ocsp-request\r\nContent-Length: 0\r\n\r\n";
    p.connection(
        49_154,
        ocsp,
        80,
        req,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 0\r\n\r\n",
    );
    p.out
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/samples/handmade.pcap".into());
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).expect("create output folder");
    }
    std::fs::write(&out, build()).expect("write sample capture");
    eprintln!("wrote {out}");
}
