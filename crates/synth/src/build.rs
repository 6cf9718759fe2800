//! Building captures packet by packet (the generator, the tests, the sample capture): a little-endian
//! microsecond pcap of Ethernet / IPv4 / TCP or UDP frames with correct checksums (tshark reads
//! them without a malformed frame), DNS messages and TLS ClientHellos; optionally every frame
//! tagged with a VLAN id, or carried over IPv6.

/// An IPv4 endpoint.
pub type Ep = ([u8; 4], u16);

/// TCP flag bits.
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// ECE.
    pub const ECE: u8 = 0x40;
    /// CWR.
    pub const CWR: u8 = 0x80;
}

/// The SYN options of the seed case's Mac (`mss 1460,nop,wscale 6,nop,nop,TS val … ecr
/// 0,sackOK,eol`), with `ts_val` as the timestamp value.
pub fn catalina_syn_options(ts_val: u32) -> Vec<u8> {
    StackProfile::default().syn_options(ts_val)
}

/// A capture under construction.
#[derive(Debug, Clone)]
pub struct Capture {
    out: Vec<u8>,
    /// Current time, microseconds since the epoch.
    pub t_us: u64,
    /// Gap added before each frame, microseconds.
    pub gap_us: u64,
    ip_id: u16,
    /// Addresses whose frames go out from the client MAC (the rest come from the router).
    pub local: Vec<[u8; 4]>,
    /// Write pcapng (one interface) instead of pcap.
    pcapng: bool,
    /// Bytes of each frame kept for segments written with [`Capture::tcp_bulk`] (as
    /// `tcpdump -s` does); the headers always carry the true lengths.
    pub bulk_snap: usize,
    /// Frames written so far.
    pub frames: u64,
    /// The client's stack: MAC, TTL and SYN.
    pub profile: StackProfile,
    window: u16,
    /// Tag every frame with this 802.1Q VLAN id.
    pub vlan: Option<u16>,
    /// Carry every packet over IPv6 instead, its addresses mapped by [`ipv6_of`] (the transport
    /// checksums made again over the IPv6 pseudo-header).
    pub ipv6: bool,
}

/// The IPv6 address an IPv4 address stands for when a capture is written over IPv6:
/// `2001:db8::a.b.c.d` (the documentation prefix).
pub fn ipv6_of(a: [u8; 4]) -> [u8; 16] {
    let mut v = [0u8; 16];
    v[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    v[12..].copy_from_slice(&a);
    v
}

/// How the client's stack looks on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackProfile {
    /// The client's MAC address.
    pub mac: [u8; 6],
    /// TTL of the client's packets.
    pub ttl: u8,
    /// SYN window.
    pub window: u16,
    /// SYN window scale option.
    pub wscale: u8,
    /// Whether the SYN offers ECN (ECE+CWR).
    pub ecn: bool,
    /// Option layout: `catalina` (mss,nop,ws,nop,nop,ts,sok,eol), `linux` (mss,sok,ts,nop,ws)
    /// or `windows` (mss,nop,ws,nop,nop,sok).
    pub layout: String,
}

impl Default for StackProfile {
    /// macOS 10.15 Catalina, as the diary shows it.
    fn default() -> Self {
        StackProfile {
            mac: MAC_CLIENT,
            ttl: 64,
            window: 65535,
            wscale: 6,
            ecn: true,
            layout: "catalina".into(),
        }
    }
}

impl StackProfile {
    /// The SYN's option bytes with `ts_val` as the timestamp.
    pub fn syn_options(&self, ts_val: u32) -> Vec<u8> {
        let ts = |o: &mut Vec<u8>| {
            o.extend_from_slice(&[8, 10]);
            o.extend_from_slice(&ts_val.to_be_bytes());
            o.extend_from_slice(&[0, 0, 0, 0]);
        };
        let mut o = vec![2, 4, 0x05, 0xb4];
        match self.layout.as_str() {
            "linux" => {
                o.extend_from_slice(&[4, 2]);
                ts(&mut o);
                o.extend_from_slice(&[1, 3, 3, self.wscale]);
            }
            "windows" => o.extend_from_slice(&[1, 3, 3, self.wscale, 1, 1, 4, 2]),
            _ => {
                o.extend_from_slice(&[1, 3, 3, self.wscale, 1, 1]);
                ts(&mut o);
                o.extend_from_slice(&[4, 2, 0, 0]);
            }
        }
        o
    }
}

const MAC_CLIENT: [u8; 6] = [0xa4, 0x83, 0xe7, 0x12, 0x34, 0x56];
const MAC_ROUTER: [u8; 6] = [0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc];

impl Default for Capture {
    fn default() -> Self {
        Capture::new()
    }
}

/// The Internet checksum over `data`, starting from `sum`.
pub fn checksum(data: &[u8], mut sum: u32) -> u16 {
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo(src: [u8; 4], dst: [u8; 4], proto: u8, len: usize) -> u32 {
    let mut s = 0u32;
    for w in [src, dst] {
        s += u32::from(u16::from_be_bytes([w[0], w[1]]))
            + u32::from(u16::from_be_bytes([w[2], w[3]]));
    }
    s + u32::from(proto) + len as u32
}

/// The IPv6 pseudo-header's sum (RFC 8200, 8.1).
fn pseudo6(src: [u8; 16], dst: [u8; 16], proto: u8, len: usize) -> u32 {
    let mut s = 0u32;
    for a in [src, dst] {
        for w in a.chunks(2) {
            s += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
    }
    s + (len as u32 >> 16) + (len as u32 & 0xffff) + u32::from(proto)
}

impl Capture {
    /// An empty capture starting 2019-10-15 18:00:00 UTC (the week of the diary), 1 ms between
    /// frames, with 10.0.0.0/8 and 192.168.0.0/16 addresses sent from the client's MAC.
    pub fn new() -> Capture {
        let mut out = Vec::new();
        out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&4u16.to_le_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        Capture {
            out,
            t_us: 1_571_162_400_000_000,
            gap_us: 1_000,
            ip_id: 0x1000,
            local: Vec::new(),
            pcapng: false,
            bulk_snap: 96,
            frames: 0,
            profile: StackProfile::default(),
            window: 0xffff,
            vlan: None,
            ipv6: false,
        }
    }

    /// An empty pcapng capture: a section header and one Ethernet interface with microsecond
    /// timestamps.
    pub fn new_pcapng() -> Capture {
        let mut c = Capture::new();
        c.pcapng = true;
        c.out.clear();
        let shb: [&[u8]; 6] = [
            &0x0a0d_0d0au32.to_le_bytes(),
            &28u32.to_le_bytes(),
            &0x1a2b_3c4du32.to_le_bytes(),
            &[1, 0, 0, 0],
            &u64::MAX.to_le_bytes(),
            &28u32.to_le_bytes(),
        ];
        for part in shb {
            c.out.extend_from_slice(part);
        }
        let idb: [&[u8]; 5] = [
            &1u32.to_le_bytes(),
            &20u32.to_le_bytes(),
            &[1, 0, 0, 0],
            &65535u32.to_le_bytes(),
            &20u32.to_le_bytes(),
        ];
        for part in idb {
            c.out.extend_from_slice(part);
        }
        c
    }

    /// Takes the bytes written so far (to stream a large capture to disk in constant memory).
    pub fn drain(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    fn is_local(&self, a: [u8; 4]) -> bool {
        self.local.contains(&a) || a[0] == 10 || (a[0] == 192 && a[1] == 168)
    }

    /// Appends a raw frame of link type Ethernet.
    pub fn raw_frame(&mut self, gap_us: u64, frame: &[u8]) {
        self.frame_record(gap_us, frame, frame.len());
    }

    /// Appends a frame of which only `captured` is stored; `orig_len` is its length on the wire.
    fn frame_record(&mut self, gap_us: u64, captured: &[u8], orig_len: usize) {
        self.t_us += gap_us;
        self.frames += 1;
        let (cap, orig) = (captured.len() as u32, orig_len as u32);
        if self.pcapng {
            let padded = captured.len().div_ceil(4) * 4;
            let len = (32 + padded) as u32;
            let ts = self.t_us;
            for part in [6u32, len, 0, (ts >> 32) as u32, ts as u32, cap, orig] {
                self.out.extend_from_slice(&part.to_le_bytes());
            }
            self.out.extend_from_slice(captured);
            self.out.resize(self.out.len() + padded - captured.len(), 0);
            self.out.extend_from_slice(&len.to_le_bytes());
            return;
        }
        let (s, us) = (self.t_us / 1_000_000, self.t_us % 1_000_000);
        self.out.extend_from_slice(&(s as u32).to_le_bytes());
        self.out.extend_from_slice(&(us as u32).to_le_bytes());
        self.out.extend_from_slice(&cap.to_le_bytes());
        self.out.extend_from_slice(&orig.to_le_bytes());
        self.out.extend_from_slice(captured);
    }

    /// Appends an IPv4 packet carrying `l4` (protocol `proto`) in an Ethernet frame, after
    /// `gap_us`.
    pub fn ipv4(&mut self, gap_us: u64, src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) {
        self.ipv4_snapped(gap_us, src, dst, proto, l4, usize::MAX);
    }

    /// Like [`Capture::ipv4`], storing at most `snap` bytes of the frame.
    fn ipv4_snapped(
        &mut self,
        gap_us: u64,
        src: [u8; 4],
        dst: [u8; 4],
        proto: u8,
        l4: &[u8],
        snap: usize,
    ) {
        let outbound = self.is_local(src);
        let (smac, dmac) = if outbound {
            (self.profile.mac, MAC_ROUTER)
        } else {
            (MAC_ROUTER, self.profile.mac)
        };
        let ttl = if outbound { self.profile.ttl } else { 54 };
        let mut f = Vec::with_capacity(62 + l4.len());
        f.extend_from_slice(&dmac);
        f.extend_from_slice(&smac);
        // The headers in front of the transport grow with a tag and with IPv6: a snapped frame
        // keeps as much of the transport as before.
        let mut snap = snap;
        if let Some(id) = self.vlan {
            f.extend_from_slice(&[0x81, 0x00]);
            f.extend_from_slice(&(id & 0x0fff).to_be_bytes());
            snap = snap.saturating_add(4);
        }
        if self.ipv6 {
            snap = snap.saturating_add(20);
            let (src6, dst6) = (ipv6_of(src), ipv6_of(dst));
            f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
            f.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            f.extend_from_slice(&[proto, ttl]);
            f.extend_from_slice(&src6);
            f.extend_from_slice(&dst6);
            let at = f.len();
            f.extend_from_slice(l4);
            // The checksum of TCP (at 16) and UDP (at 6), over the IPv6 pseudo-header.
            let field = match proto {
                6 => Some(16),
                17 => Some(6),
                _ => None,
            };
            if let Some(o) = field.filter(|o| l4.len() >= o + 2) {
                let seg = &mut f[at..];
                seg[o..o + 2].copy_from_slice(&[0, 0]);
                let mut c = checksum(seg, pseudo6(src6, dst6, proto, l4.len()));
                if proto == 17 && c == 0 {
                    c = 0xffff;
                }
                seg[o..o + 2].copy_from_slice(&c.to_be_bytes());
            }
        } else {
            let total = 20 + l4.len();
            let mut ip = vec![0x45, 0, (total >> 8) as u8, total as u8];
            self.ip_id = self.ip_id.wrapping_add(1);
            ip.extend_from_slice(&self.ip_id.to_be_bytes());
            ip.extend_from_slice(&[0x40, 0, ttl, proto, 0, 0]);
            ip.extend_from_slice(&src);
            ip.extend_from_slice(&dst);
            let c = checksum(&ip, 0);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            f.extend_from_slice(&[0x08, 0x00]);
            f.extend(ip);
            f.extend_from_slice(l4);
        }
        let keep = f.len().min(snap);
        self.frame_record(gap_us, &f[..keep], f.len());
    }

    /// A UDP datagram.
    pub fn udp(&mut self, src: Ep, dst: Ep, payload: &[u8]) {
        self.udp_after(self.gap_us, src, dst, payload);
    }

    /// A UDP datagram of which only the headers are stored (bulk QUIC data).
    pub fn udp_bulk(&mut self, src: Ep, dst: Ep, payload: &[u8]) {
        let u = udp_datagram(src, dst, payload);
        let (g, snap) = (self.gap_us, self.bulk_snap + 12);
        self.ipv4_snapped(g, src.0, dst.0, 17, &u, snap);
    }

    /// A UDP datagram after `gap_us`.
    pub fn udp_after(&mut self, gap_us: u64, src: Ep, dst: Ep, payload: &[u8]) {
        let u = udp_datagram(src, dst, payload);
        self.ipv4(gap_us, src.0, dst.0, 17, &u);
    }

    /// A TCP segment after `gap_us`.
    #[allow(clippy::too_many_arguments)]
    pub fn tcp_after(
        &mut self,
        gap_us: u64,
        src: Ep,
        dst: Ep,
        seq: u32,
        ack: u32,
        flags: u8,
        opts: &[u8],
        payload: &[u8],
    ) {
        self.tcp_segment(gap_us, src, dst, seq, ack, flags, opts, payload, usize::MAX);
    }

    /// A bulk data segment of `len` bytes (zeros on the wire), of which only the first
    /// [`Capture::bulk_snap`] bytes of the frame are stored: the volume stays true in the IP
    /// header while the file stays small.
    pub fn tcp_bulk(&mut self, src: Ep, dst: Ep, seq: u32, ack: u32, len: usize) {
        let payload = vec![0u8; len];
        let (g, snap) = (self.gap_us, self.bulk_snap);
        self.tcp_segment(g, src, dst, seq, ack, flags::ACK, &[], &payload, snap);
    }

    /// A payload-less segment with its own window (the SYN).
    #[allow(clippy::too_many_arguments)]
    fn tcp_window(
        &mut self,
        gap_us: u64,
        src: Ep,
        dst: Ep,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        opts: &[u8],
    ) {
        let saved = self.window;
        self.window = window;
        self.tcp_segment(gap_us, src, dst, seq, ack, flags, opts, &[], usize::MAX);
        self.window = saved;
    }

    #[allow(clippy::too_many_arguments)]
    fn tcp_segment(
        &mut self,
        gap_us: u64,
        src: Ep,
        dst: Ep,
        seq: u32,
        ack: u32,
        flags: u8,
        opts: &[u8],
        payload: &[u8],
        snap: usize,
    ) {
        let hlen = 20 + opts.len();
        let mut t = Vec::with_capacity(hlen + payload.len());
        t.extend_from_slice(&src.1.to_be_bytes());
        t.extend_from_slice(&dst.1.to_be_bytes());
        t.extend_from_slice(&seq.to_be_bytes());
        t.extend_from_slice(&ack.to_be_bytes());
        t.push(((hlen / 4) as u8) << 4);
        t.push(flags);
        t.extend_from_slice(&self.window.to_be_bytes());
        t.extend_from_slice(&[0, 0, 0, 0]);
        t.extend_from_slice(opts);
        t.extend_from_slice(payload);
        let c = checksum(&t, pseudo(src.0, dst.0, 6, t.len()));
        t[16..18].copy_from_slice(&c.to_be_bytes());
        self.ipv4_snapped(gap_us, src.0, dst.0, 6, &t, snap);
    }

    /// SYN (with the seed case's options), SYN-ACK, ACK.
    pub fn tcp_handshake(&mut self, client: Ep, server: Ep, client_isn: u32, server_isn: u32) {
        let ts = (self.t_us / 1000) as u32;
        let g = self.gap_us;
        let syn = if self.profile.ecn {
            flags::SYN | flags::ECE | flags::CWR
        } else {
            flags::SYN
        };
        let opts = self.profile.syn_options(ts);
        let window = self.profile.window;
        self.tcp_window(g, client, server, client_isn, 0, syn, window, &opts);
        let synack = flags::SYN | flags::ACK | flags::ECE;
        let opts = [2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 8];
        self.tcp_after(
            g,
            server,
            client,
            server_isn,
            client_isn + 1,
            synack,
            &opts,
            &[],
        );
        self.tcp_after(
            g,
            client,
            server,
            client_isn + 1,
            server_isn + 1,
            flags::ACK,
            &[],
            &[],
        );
    }

    /// A data segment (PSH+ACK).
    pub fn tcp_data(&mut self, src: Ep, dst: Ep, seq: u32, ack: u32, payload: &[u8]) {
        let g = self.gap_us;
        self.tcp_after(g, src, dst, seq, ack, flags::PSH | flags::ACK, &[], payload);
    }

    /// A whole connection: handshake, `request`, `response` in 1448-byte segments, FINs.
    pub fn connection(&mut self, client: Ep, server: Ep, request: &[u8], response: &[u8]) {
        let (cs, ss) = (0x1000_0000u32 + u32::from(client.1), 0x5000_0000u32);
        self.tcp_handshake(client, server, cs, ss);
        self.tcp_data(client, server, cs + 1, ss + 1, request);
        let g = self.gap_us;
        let mut sent = 0u32;
        for chunk in response.chunks(1448) {
            let ack = cs + 1 + request.len() as u32;
            self.tcp_after(
                g,
                server,
                client,
                ss + 1 + sent,
                ack,
                flags::ACK,
                &[],
                chunk,
            );
            sent += chunk.len() as u32;
        }
        let (ca, sa) = (cs + 1 + request.len() as u32, ss + 1 + sent);
        self.tcp_after(g, client, server, ca, sa, flags::ACK, &[], &[]);
        self.tcp_after(g, client, server, ca, sa, flags::FIN | flags::ACK, &[], &[]);
        self.tcp_after(
            g,
            server,
            client,
            sa,
            ca + 1,
            flags::FIN | flags::ACK,
            &[],
            &[],
        );
        self.tcp_after(g, client, server, ca + 1, sa + 1, flags::ACK, &[], &[]);
    }

    /// A DNS query from `client` and the resolver's answer: `name` -> CNAME chain -> A `addr`.
    pub fn dns_exchange(
        &mut self,
        client: Ep,
        resolver: [u8; 4],
        id: u16,
        name: &str,
        cnames: &[&str],
        addr: [u8; 4],
    ) {
        self.udp(
            client,
            (resolver, 53),
            &dns_message(id, false, name, cnames, addr),
        );
        self.udp(
            (resolver, 53),
            client,
            &dns_message(id, true, name, cnames, addr),
        );
    }

    /// The finished pcap bytes.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// A UDP header and payload with a correct checksum.
fn udp_datagram(src: Ep, dst: Ep, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut u = Vec::with_capacity(len);
    u.extend_from_slice(&src.1.to_be_bytes());
    u.extend_from_slice(&dst.1.to_be_bytes());
    u.extend_from_slice(&(len as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let c = checksum(&u, pseudo(src.0, dst.0, 17, len));
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

/// A name in DNS wire form (no compression).
pub fn name_bytes(n: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in n.split('.').filter(|l| !l.is_empty()) {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

/// A DNS query for `name` (type A), or its response: the CNAME chain, then an A record.
pub fn dns_message(id: u16, response: bool, name: &str, cnames: &[&str], addr: [u8; 4]) -> Vec<u8> {
    dns_message_of(id, response, name, cnames, 1, &addr)
}

/// [`dns_message`] for an IPv6 address: type AAAA.
pub fn dns_message_aaaa(
    id: u16,
    response: bool,
    name: &str,
    cnames: &[&str],
    addr: [u8; 16],
) -> Vec<u8> {
    dns_message_of(id, response, name, cnames, 28, &addr)
}

/// A query of type `qtype`, or its response ending with one record of that type holding
/// `rdata`.
fn dns_message_of(
    id: u16,
    response: bool,
    name: &str,
    cnames: &[&str],
    qtype: u8,
    rdata: &[u8],
) -> Vec<u8> {
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
    m.extend_from_slice(&[0, qtype, 0, 1]);
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
    m.extend_from_slice(&[0, qtype, 0, 1, 0, 0, 0, 60, 0, rdata.len() as u8]);
    m.extend_from_slice(rdata);
    m
}

fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut v = ty.to_be_bytes().to_vec();
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A TLS record holding a ClientHello for `host` like a current browser's: a GREASE extension
/// first, SNI, groups (X25519MLKEM768 and x25519), point formats, signature algorithms, ALPN `h2`
/// and `http/1.1`, supported versions (GREASE, 1.3, 1.2), then a padding extension of `pad` bytes
/// (a post-quantum key share makes real ones about 1.8 kB: two segments).
pub fn client_hello(host: &str, pad: usize) -> Vec<u8> {
    let mut exts = Vec::new();
    exts.extend(ext(0x0a0a, &[]));
    let mut sni = Vec::new();
    sni.extend_from_slice(&((host.len() + 3) as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(host.len() as u16).to_be_bytes());
    sni.extend_from_slice(host.as_bytes());
    exts.extend(ext(0, &sni));
    exts.extend(ext(10, &[0, 4, 0x11, 0xec, 0, 0x1d]));
    exts.extend(ext(11, &[1, 0]));
    exts.extend(ext(13, &[0, 4, 4, 3, 8, 4]));
    exts.extend(ext(
        16,
        &[
            0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
        ],
    ));
    exts.extend(ext(43, &[6, 0x3a, 0x3a, 3, 4, 3, 3]));
    exts.extend(ext(21, &vec![0; pad]));
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 6, 0x1a, 0x1a, 0x13, 0x01, 0xc0, 0x2f]);
    body.extend_from_slice(&[1, 0]);
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
