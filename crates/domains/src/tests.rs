//! Behaviour of the shipped rules: the seed case, look-alikes, fallbacks and the vendor switch.

use super::*;

fn rules() -> &'static Rules {
    Rules::builtin()
}

fn apple() -> Vendor {
    Vendor::apple()
}

/// (host, owner, category, role)
const SEED: &[(&str, &str, Category, &str)] = &[
    ("time.apple.com", "apple", Category::Vendor, "time"),
    ("albert.apple.com", "apple", Category::Vendor, "activation"),
    ("ocsp.apple.com", "apple", Category::Vendor, "cert-status"),
    ("www.apple.com", "apple", Category::Vendor, "web"),
    (
        "swscan.apple.com",
        "apple",
        Category::Vendor,
        "software-update",
    ),
    ("gspe21-ssl.ls.apple.com", "apple", Category::Vendor, "maps"),
    (
        "apple-finance.query.yahoo.com",
        "yahoo",
        Category::ThirdParty,
        "finance",
    ),
    ("www.yelp.com", "yelp", Category::ThirdParty, "web"),
    ("www.yahoo.com", "yahoo", Category::ThirdParty, "news"),
    (
        "www.weather.com",
        "weather-company",
        Category::ThirdParty,
        "weather",
    ),
    (
        "www.tripadvisor.com",
        "tripadvisor",
        Category::ThirdParty,
        "web",
    ),
    (
        "www.linkedin.com",
        "linkedin",
        Category::ThirdParty,
        "social",
    ),
    ("www.facebook.com", "meta", Category::ThirdParty, "social"),
    ("www.bing.com", "microsoft", Category::ThirdParty, "search"),
    ("www.twitter.com", "x", Category::ThirdParty, "social"),
];

#[test]
fn seed_case_hosts() {
    for &(host, owner, category, role) in SEED {
        let c = rules().classify(host, None, &apple());
        assert_eq!(c.owner_id(), Some(owner), "{host}");
        assert_eq!(c.category, category, "{host}");
        assert_eq!(c.role, Some(role), "{host}");
        assert_ne!(c.confidence, Confidence::None, "{host}");
    }
}

/// Every host of Apple's enterprise list (research/domains.md, source A) is Apple's.
#[test]
fn apple_enterprise_hosts_are_vendor() {
    let hosts = "time.apple.com time-ios.apple.com time-macos.apple.com albert.apple.com \
        sq-device.apple.com captive.apple.com gs.apple.com humb.apple.com static.ips.apple.com \
        tbsc.apple.com 1-courier.push.apple.com api.push.apple.com deviceenrollment.apple.com \
        deviceservices-external.apple.com gdmf.apple.com identity.apple.com iprofiles.apple.com \
        mdmenrollment.apple.com setup.icloud.com vpp.itunes.apple.com business.apple.com \
        school.apple.com api.ent.apple.com api.edu.apple.com ws-ee-maidsvc.icloud.com \
        axm-adm-enroll.apple.com cdn.axm-usercontent-apple.com upload.appleschoolcontent.com \
        statici.icloud.com swscan.apple.com swcdn.apple.com swdist.apple.com \
        swdownload.apple.com ig.apple.com skl.apple.com gg.apple.com mesu.apple.com \
        appldnld.apple.com appldnld.apple.com.edgesuite.net configuration.apple.com \
        oscdn.apple.com osrecovery.apple.com updates.cdn-apple.com updates-http.cdn-apple.com \
        gdmf-ados.apple.com gsra.apple.com wkms-public.apple.com \
        fcs-keys-pub-prod.cdn-apple.com xp.apple.com itunes.apple.com buy.itunes.apple.com \
        apps.apple.com s1.mzstatic.com ppq.apple.com itunes.com ocsp.apple.com ocsp2.apple.com \
        crl.apple.com certs.apple.com valid.apple.com appleid.apple.com account.apple.com \
        idmsa.apple.com gsa.apple.com appleid.cdn-apple.com cvws.icloud-content.com \
        api.apple-cloudkit.com cdn.apple-livephotoskit.com idmsaapz-mdn.apzones.com \
        gateway.icloud.com exportws.iwork.apple.com mediaservices.cdn-apple.com mask.icloud.com \
        guzzoni.apple.com api.smoot.apple.com apple-relay.apple.com apple-relay.cloudflare.com \
        cp4.cloudflare.com apple-relay.fastly-edge.com api.apple-mapkit.com \
        lcdn-registration.apple.com lcdn-locator.apple.com suconfig.apple.com \
        serverstatus.apple.com xp-cdn.apple.com register.appattest.apple.com \
        developer.apple.com download.developer.apple.com devimages-cdn.apple.com \
        bpapi.apple.com cssubmissions.apple.com fba.apple.com diagassets.apple.com \
        iphonesubmissions.apple.com doh.dns.apple.com pos-device.apple.com \
        smp-device-content.apple.com idv.cdn-apple.com app-site-association.cdn-apple.com \
        app-site-association.networking.apple audiocontentdownload.apple.com \
        playgrounds-cdn.apple.com sylvan.apple.com match.gc.apple.com";
    for host in hosts.split_whitespace() {
        let c = rules().classify(host, None, &apple());
        assert_eq!(c.owner_id(), Some("apple"), "{host}");
        assert_eq!(c.category, Category::Vendor, "{host}");
        assert!(c.role.is_some(), "{host}");
    }
}

#[test]
fn apple_cdn_zones_and_operators() {
    for host in [
        "a1.v.aaplimg.com",
        "x.apple-dns.net",
        "x.cdn-apple.com",
        "is1-ssl.mzstatic.com",
        "p01.icloud.com",
        "x.icloud-content.com",
        "www.apple.news",
    ] {
        let c = rules().classify(host, None, &apple());
        assert_eq!(c.owner_id(), Some("apple"), "{host}");
    }
    let c = rules().classify("www.apple.com.edgekey.net", None, &apple());
    assert_eq!(
        (c.owner_id(), c.operator_id()),
        (Some("apple"), Some("akamai"))
    );
    assert_eq!(c.category, Category::Vendor);
    let c = rules().classify("apple-relay.cloudflare.com", None, &apple());
    assert_eq!(c.operator_id(), Some("cloudflare"));
    // A bare Akamai edge name is Akamai's, third party.
    let c = rules().classify("e1234.b.akamaiedge.net", None, &apple());
    assert_eq!(c.owner_id(), Some("akamai"));
    assert_eq!(c.category, Category::ThirdParty);
    assert_eq!(c.role, Some("cdn"));
}

#[test]
fn other_third_parties() {
    let cases = [
        ("safebrowsing.urlsec.qq.com", "tencent", "safe-browsing"),
        ("safebrowsing.googleapis.com", "google", "safe-browsing"),
        ("ocsp.digicert.com", "digicert", "cert-status"),
        ("ocsp.entrust.net", "entrust", "cert-status"),
        ("r3.o.lencr.org", "isrg", "cert-status"),
        (
            "connectivitycheck.gstatic.com",
            "google",
            "connectivity-check",
        ),
        ("www.msftconnecttest.com", "microsoft", "connectivity-check"),
        ("time.windows.com", "microsoft", "time"),
        ("v10.events.data.microsoft.com", "microsoft", "telemetry"),
        ("dns.google", "google", "dns"),
    ];
    for (host, owner, role) in cases {
        let c = rules().classify(host, None, &apple());
        assert_eq!(c.owner_id(), Some(owner), "{host}");
        assert_eq!(c.role, Some(role), "{host}");
        assert_eq!(c.category, Category::ThirdParty, "{host}");
    }
}

#[test]
fn path_rules() {
    let path = Some("/library/test/success.html");
    let c = rules().classify("www.apple.com", path, &apple());
    assert_eq!(c.role, Some("connectivity-check"));
    assert_eq!(c.confidence, Confidence::Name);
    let c = rules().classify("www.apple.com", Some("/mac/"), &apple());
    assert_eq!(c.role, Some("web"));
    let c = rules().classify("www.google.com", Some("/generate_204"), &Vendor::google());
    assert_eq!(c.role, Some("connectivity-check"));
    assert_eq!(c.category, Category::Vendor);
}

#[test]
fn exact_beats_suffix_and_fields_inherit() {
    let ex = rules().explain("time.apple.com", None, &apple());
    assert_eq!(ex.classification.confidence, Confidence::Name);
    assert_eq!(ex.steps[0].rule.pattern, "time.apple.com");
    assert_eq!(ex.steps[0].decided, ["role"]);
    assert_eq!(ex.steps[1].rule.pattern, "apple.com");
    assert_eq!(ex.steps[1].decided, ["owner"]);
    let c = rules().classify("foo.apple.com", None, &apple());
    assert_eq!((c.role, c.confidence), (Some("other"), Confidence::Suffix));
    let text = ex.to_string();
    assert!(
        text.contains("exact time.apple.com -> decided role"),
        "{text}"
    );
    assert!(text.contains("suffix apple.com -> decided owner"), "{text}");
}

#[test]
fn look_alikes_do_not_match() {
    for host in [
        "notapple.com",
        "apple.com.evil.example",
        "myapple.com.example",
        "xapple.com",
        "applecom",
    ] {
        let c = rules().classify(host, None, &apple());
        assert_eq!(c.owner, None, "{host}");
        assert_eq!(c.category, Category::Unknown, "{host}");
        assert_eq!(c.confidence, Confidence::None, "{host}");
    }
}

#[test]
fn normalisation_in_lookup() {
    let c = rules().classify("TIME.Apple.COM.", None, &apple());
    assert_eq!(c.host, "time.apple.com");
    assert_eq!(c.role, Some("time"));
    let c = rules().classify("time..apple.com", None, &apple());
    assert_eq!(c.category, Category::Unknown);
    let ex = rules().explain("time..apple.com", None, &apple());
    assert_eq!(ex.name_error, Some(NameError::EmptyLabel));
    let c = rules().classify("", None, &apple());
    assert_eq!(c.category, Category::Unknown);
    // 253 bytes under apple.com is fine; one more byte is rejected.
    let label = "a".repeat(63);
    let base = format!("{label}.{label}.{label}.");
    let pad = "b".repeat(253 - base.len() - "apple.com".len() - 1);
    let long = format!("{base}{pad}.apple.com");
    assert_eq!(long.len(), 253);
    assert_eq!(
        rules().classify(&long, None, &apple()).owner_id(),
        Some("apple")
    );
    let too_long = format!("{base}{pad}b.apple.com");
    assert_eq!(rules().classify(&too_long, None, &apple()).owner, None);
}

#[test]
fn ip_fallback() {
    let c = rules().classify("17.1.2.3", None, &apple());
    assert_eq!(c.owner_id(), Some("apple"));
    assert_eq!(c.confidence, Confidence::Ip);
    assert_eq!(c.category, Category::Vendor);
    assert_eq!(c.registrable_domain, None);
    let c = rules().classify_addr("17.249.1.1".parse().unwrap(), &apple());
    assert_eq!((c.role, c.confidence), (Some("push"), Confidence::Ip));
    let c = rules().classify("[2620:149:a44::1]", None, &apple());
    assert_eq!(c.owner_id(), Some("apple"));
    let c = rules().classify_addr("203.0.113.9".parse().unwrap(), &apple());
    assert_eq!(
        (c.category, c.confidence),
        (Category::Unknown, Confidence::None)
    );
    // A name always beats a range.
    let addr = Some("17.1.2.3".parse().unwrap());
    let c = rules().classify_flow(Some("www.facebook.com"), None, addr, &apple());
    assert_eq!(
        (c.owner_id(), c.confidence),
        (Some("meta"), Confidence::Suffix)
    );
    // An unknown name falls back to its address.
    let c = rules().classify_flow(Some("unknown.example"), None, addr, &apple());
    assert_eq!(
        (c.owner_id(), c.confidence),
        (Some("apple"), Confidence::Ip)
    );
    assert_eq!(c.host, "unknown.example");
    assert_eq!(c.registrable_domain.as_deref(), Some("unknown.example"));
}

#[test]
fn local_traffic() {
    for a in [
        "192.168.1.1",
        "10.0.0.1",
        "100.64.1.1",
        "224.0.0.251",
        "ff02::fb",
        "fd12::1",
    ] {
        let c = rules().classify(a, None, &apple());
        assert_eq!(c.category, Category::Local, "{a}");
    }
    let c = rules().classify("MacBook-Pro.local.", None, &apple());
    assert_eq!(
        (c.category, c.role),
        (Category::Local, Some(LOCAL_DISCOVERY))
    );
    assert_eq!(c.registrable_domain, None);
    let c = rules().classify_addr("224.0.0.251".parse().unwrap(), &apple());
    assert_eq!(c.role, Some(LOCAL_DISCOVERY));
}

#[test]
fn vendor_switch() {
    let c = rules().classify("microsoft.com", None, &apple());
    assert_eq!(c.category, Category::ThirdParty);
    let c = rules().classify("microsoft.com", None, &Vendor::microsoft());
    assert_eq!(c.category, Category::Vendor);
    // Subsidiaries count for their parent.
    let c = rules().classify("www.linkedin.com", None, &Vendor::microsoft());
    assert_eq!(c.category, Category::Vendor);
    let c = rules().classify("time.apple.com", None, &Vendor::microsoft());
    assert_eq!(c.category, Category::ThirdParty);
    let c = rules().classify(
        "connectivitycheck.gstatic.com",
        None,
        &"Google".parse().unwrap(),
    );
    assert_eq!(c.category, Category::Vendor);
    assert!("".parse::<Vendor>().is_err());
    // Each vendor has several of its own services covered.
    for (vendor, hosts) in [
        (
            Vendor::microsoft(),
            &[
                "windowsupdate.com",
                "login.live.com",
                "x.msedge.net",
                "www.bing.com",
                "github.com",
            ][..],
        ),
        (
            Vendor::google(),
            &[
                "www.youtube.com",
                "fcm.googleapis.com",
                "time.google.com",
                "play.google.com",
                "x.gvt1.com",
            ][..],
        ),
        (
            Vendor::apple(),
            &[
                "swscan.apple.com",
                "www.icloud.com",
                "s.mzstatic.com",
                "p01-gateway.apple-dns.net",
                "www.shazam.com",
            ][..],
        ),
    ] {
        for h in hosts {
            assert_eq!(
                rules().classify(h, None, &vendor).category,
                Category::Vendor,
                "{h} {vendor}"
            );
        }
    }
}

#[test]
fn registrable_domains() {
    let c = rules().classify("gspe21-ssl.ls.apple.com", None, &apple());
    assert_eq!(c.registrable_domain.as_deref(), Some("apple.com"));
    let c = rules().classify("a.b.example.co.uk", None, &apple());
    assert_eq!(c.registrable_domain.as_deref(), Some("example.co.uk"));
    // The project rule decides the owner even where the PSL private section splits the name.
    let c = rules().classify("e6858.dsce9.akamaiedge.net", None, &apple());
    assert_eq!(c.owner_id(), Some("apple"));
    assert_eq!(c.operator_id(), Some("akamai"));
    // Grouping is by the ICANN suffix: the CDN zone, not the customer's slice of it.
    assert_eq!(c.registrable_domain.as_deref(), Some("akamaiedge.net"));
    assert_eq!(
        crate::psl_registrable_domain("e6858.dsce9.akamaiedge.net").as_deref(),
        Some("dsce9.akamaiedge.net")
    );
    assert_eq!(
        crate::registrable_domain("user.github.io").as_deref(),
        Some("github.io")
    );
    assert_eq!(crate::registrable_domain("co.uk"), None);
    assert_eq!(
        crate::registrable_domain("akamaiedge.net").as_deref(),
        Some("akamaiedge.net")
    );
}

#[test]
fn user_rules_override_and_extend() {
    let mut r = rules().clone();
    let n = r.rules().len();
    r.extend_str(
        r#"schema = 1
[owners.acme]
name = "Acme"
source = "me"

[[rule]]
pattern = "time.apple.com"
match = "exact"
role = "other"
source = "me"

[[rule]]
pattern = "acme.example"
match = "suffix"
owner = "acme"
role = "web"
source = "me"

[[rule]]
pattern = "cdn.acme.example"
match = "suffix"
operator = "akamai"
source = "me"
"#,
    )
    .unwrap();
    assert_eq!(r.rules().len(), n + 2);
    assert_eq!(
        r.classify("time.apple.com", None, &apple()).role,
        Some("other")
    );
    let c = r.classify("x.cdn.acme.example", None, &apple());
    assert_eq!(
        (c.owner_id(), c.operator_id(), c.role),
        (Some("acme"), Some("akamai"), Some("web"))
    );
    assert_eq!(
        r.classify("x.acme.example", None, &Vendor::new("acme"))
            .category,
        Category::Vendor
    );
    // A bad user file leaves the rules unchanged.
    let before = r.rules().len();
    let e = r.extend_str("schema = 1\n[[rule]]\npattern = \"x.example\"\nmatch = \"exact\"\nowner = \"nobody\"\nsource = \"me\"\n");
    assert!(matches!(e, Err(RulesError::UnknownOwner { .. })));
    assert_eq!(r.rules().len(), before);
    // merge() of a standalone set.
    let mut base = Rules::load_str("schema = 1\n[owners.a]\nname = \"A\"\nsource = \"s\"\n[[rule]]\npattern = \"a.example\"\nmatch = \"suffix\"\nowner = \"a\"\nsource = \"s\"\n").unwrap();
    let other = Rules::load_str("schema = 1\n[owners.b]\nname = \"B\"\nsource = \"s\"\n[[rule]]\npattern = \"a.example\"\nmatch = \"suffix\"\nowner = \"b\"\nsource = \"s\"\n").unwrap();
    base.merge(other);
    assert_eq!(base.rules().len(), 1);
    assert_eq!(
        base.classify("x.a.example", None, &apple()).owner_id(),
        Some("b")
    );
    // An address written as a name rule could never match: refused with its own error.
    let addr = "schema = 1\n[[rule]]\npattern = \"10.0.0.1\"\nmatch = \"exact\"\nowner = \"apple\"\nsource = \"t\"\n";
    assert_eq!(
        r.extend_str(addr),
        Err(RulesError::AddressPattern("10.0.0.1".into()))
    );
}

#[test]
fn unknown_has_no_owner() {
    let c = rules().classify("www.example.org", None, &apple());
    assert_eq!(
        (c.category, c.confidence, c.owner),
        (Category::Unknown, Confidence::None, None)
    );
    assert_eq!(c.registrable_domain.as_deref(), Some("example.org"));
    assert!(rules()
        .explain("www.example.org", None, &apple())
        .to_string()
        .contains("no rule matched"));
}

#[test]
fn docs_example_loads_and_lists_every_role() {
    let doc = include_str!("../../../docs/rules.md");
    let example = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap();
    let r = Rules::load_str(example).unwrap();
    assert_eq!(r.rules().len(), 1);
    assert_eq!(r.ranges().len(), 1);
    for role in ROLES {
        assert!(doc.contains(role), "{role} missing from docs/rules.md");
    }
}
