#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "berth/config/json.hpp"
#include "berth/file/document.hpp"

using namespace berth;
using file::Format;
using nlohmann::json;

namespace {

struct Sample {
  const char* topic;
  Format format;
  const char* text;
  /// config::to_json of the decoded Configuration (for `http`) and TlsConfiguration.
  const char* expected_http;
  const char* expected_tls;
};

// Samples from Traefik's dynamic-configuration documentation, each in YAML and TOML.
const Sample samples[] = {
    {"routers", Format::yaml, R"~(
http:
  routers:
    my-router:
      rule: "Host(`example.com`) && PathPrefix(`/api`)"
      entryPoints:
        - web
        - websecure
      middlewares:
        - authentication
      service: service-foo
      priority: 10
      tls:
        certResolver: myresolver
        domains:
          - main: "example.org"
            sans:
              - "*.example.org"
)~",
     R"~({"http":{"routers":{"my-router":{"rule":"Host(`example.com`) && PathPrefix(`/api`)",
        "entryPoints":["web","websecure"],"middlewares":["authentication"],
        "service":"service-foo","priority":10,"tls":{"certResolver":"myresolver",
        "domains":[{"main":"example.org","sans":["*.example.org"]}]}}}}})~",
     "{}"},
    {"routers", Format::toml, R"~(
[http.routers]
  [http.routers.my-router]
    rule = "Host(`example.com`) && PathPrefix(`/api`)"
    entryPoints = ["web", "websecure"]
    middlewares = ["authentication"]
    service = "service-foo"
    priority = 10
    [http.routers.my-router.tls]
      certResolver = "myresolver"
      [[http.routers.my-router.tls.domains]]
        main = "example.org"
        sans = ["*.example.org"]
)~",
     R"~({"http":{"routers":{"my-router":{"rule":"Host(`example.com`) && PathPrefix(`/api`)",
        "entryPoints":["web","websecure"],"middlewares":["authentication"],
        "service":"service-foo","priority":10,"tls":{"certResolver":"myresolver",
        "domains":[{"main":"example.org","sans":["*.example.org"]}]}}}}})~",
     "{}"},

    {"load balancer with sticky cookie and health check", Format::yaml, R"~(
http:
  services:
    my-service:
      loadBalancer:
        servers:
          - url: "http://private-ip-server-1/"
            weight: 2
          - url: "http://private-ip-server-2/"
            weight: 1
            preservePath: true
        sticky:
          cookie:
            name: sticky-cookie
            secure: true
            httpOnly: true
            sameSite: none
            maxAge: 42
            path: /foo
        healthCheck:
          scheme: http
          path: /health
          port: 8080
          interval: "10s"
          timeout: 3s
          unhealthyInterval: 30
          hostname: example.org
          followRedirects: false
          headers:
            My-Custom-Header: foo
        passHostHeader: false
        responseForwarding:
          flushInterval: 1s
        serversTransport: mytransport
)~",
     R"~({"http":{"services":{"my-service":{"loadBalancer":{
        "servers":[{"url":"http://private-ip-server-1/","weight":2},
                   {"url":"http://private-ip-server-2/","weight":1,"preservePath":true}],
        "sticky":{"cookie":{"name":"sticky-cookie","secure":true,"httpOnly":true,
                            "sameSite":"none","maxAge":42,"path":"/foo"}},
        "healthCheck":{"scheme":"http","path":"/health","port":8080,"interval":"10s",
                       "timeout":"3s","unhealthyInterval":"30s","hostname":"example.org",
                       "followRedirects":false,"headers":{"My-Custom-Header":"foo"}},
        "passHostHeader":false,"responseForwarding":{"flushInterval":"1s"},
        "serversTransport":"mytransport"}}}}})~",
     "{}"},
    {"load balancer with sticky cookie and health check", Format::toml, R"~(
[http.services]
  [http.services.my-service.loadBalancer]
    passHostHeader = false
    serversTransport = "mytransport"
    [[http.services.my-service.loadBalancer.servers]]
      url = "http://private-ip-server-1/"
      weight = 2
    [[http.services.my-service.loadBalancer.servers]]
      url = "http://private-ip-server-2/"
      weight = 1
      preservePath = true
    [http.services.my-service.loadBalancer.sticky.cookie]
      name = "sticky-cookie"
      secure = true
      httpOnly = true
      sameSite = "none"
      maxAge = 42
      path = "/foo"
    [http.services.my-service.loadBalancer.healthCheck]
      scheme = "http"
      path = "/health"
      port = 8080
      interval = "10s"
      timeout = "3s"
      unhealthyInterval = 30
      hostname = "example.org"
      followRedirects = false
      [http.services.my-service.loadBalancer.healthCheck.headers]
        My-Custom-Header = "foo"
    [http.services.my-service.loadBalancer.responseForwarding]
      flushInterval = "1s"
)~",
     R"~({"http":{"services":{"my-service":{"loadBalancer":{
        "servers":[{"url":"http://private-ip-server-1/","weight":2},
                   {"url":"http://private-ip-server-2/","weight":1,"preservePath":true}],
        "sticky":{"cookie":{"name":"sticky-cookie","secure":true,"httpOnly":true,
                            "sameSite":"none","maxAge":42,"path":"/foo"}},
        "healthCheck":{"scheme":"http","path":"/health","port":8080,"interval":"10s",
                       "timeout":"3s","unhealthyInterval":"30s","hostname":"example.org",
                       "followRedirects":false,"headers":{"My-Custom-Header":"foo"}},
        "passHostHeader":false,"responseForwarding":{"flushInterval":"1s"},
        "serversTransport":"mytransport"}}}}})~",
     "{}"},

    {"weighted services", Format::yaml, R"~(
http:
  services:
    app:
      weighted:
        services:
        - name: appv1
          weight: 3
        - name: appv2
          weight: 1
        sticky:
          cookie:
            name: lvl1
        healthCheck: {}
    appv1:
      loadBalancer:
        servers:
        - url: "http://private-ip-server-1/"
)~",
     R"~({"http":{"services":{
        "app":{"weighted":{"services":[{"name":"appv1","weight":3},{"name":"appv2","weight":1}],
                           "sticky":{"cookie":{"name":"lvl1"}},"healthCheck":{}}},
        "appv1":{"loadBalancer":{"servers":[{"url":"http://private-ip-server-1/"}]}}}}})~",
     "{}"},
    {"weighted services", Format::toml, R"~(
[http.services]
  [http.services.app]
    [[http.services.app.weighted.services]]
      name = "appv1"
      weight = 3
    [[http.services.app.weighted.services]]
      name = "appv2"
      weight = 1
    [http.services.app.weighted.sticky.cookie]
      name = "lvl1"
    [http.services.app.weighted.healthCheck]
  [http.services.appv1]
    [http.services.appv1.loadBalancer]
      [[http.services.appv1.loadBalancer.servers]]
        url = "http://private-ip-server-1/"
)~",
     R"~({"http":{"services":{
        "app":{"weighted":{"services":[{"name":"appv1","weight":3},{"name":"appv2","weight":1}],
                           "sticky":{"cookie":{"name":"lvl1"}},"healthCheck":{}}},
        "appv1":{"loadBalancer":{"servers":[{"url":"http://private-ip-server-1/"}]}}}}})~",
     "{}"},

    {"every middleware kind", Format::yaml, R"~(
http:
  middlewares:
    add-foo:
      addPrefix:
        prefix: "/foo"
    test-stripprefix:
      stripPrefix:
        prefixes:
          - "/foobar"
          - "/fiibar"
        forceSlash: false
    test-stripprefixregex:
      stripPrefixRegex:
        regex:
          - "/foo/[a-z0-9]+/[0-9]+/"
    test-replacepath:
      replacePath:
        path: "/foo"
    test-replacepathregex:
      replacePathRegex:
        regex: "^/foo/(.*)"
        replacement: "/bar/$1"
    test-redirectscheme:
      redirectScheme:
        scheme: https
        port: 443
        permanent: true
    test-redirectregex:
      redirectRegex:
        regex: "^http://localhost/(.*)"
        replacement: "http://mydomain/${1}"
    test-headers:
      headers:
        customRequestHeaders:
          X-Script-Name: "test"
          X-Custom-Request-Header: ""
        customResponseHeaders:
          X-Custom-Response-Header: "value"
        accessControlAllowMethods:
          - GET
          - OPTIONS
          - PUT
        accessControlAllowHeaders: "*"
        accessControlAllowOriginList:
          - https://foo.bar.org
          - https://example.org
        accessControlMaxAge: 100
        addVaryHeader: true
        frameDeny: true
        sslProxyHeaders:
          X-Forwarded-Proto: https
        stsSeconds: 31536000
        stsIncludeSubdomains: true
        stsPreload: true
        forceSTSHeader: true
        contentSecurityPolicy: "default-src 'self'"
    test-auth:
      basicAuth:
        users:
          - "test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"
          - "test2:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0"
        realm: MyRealm
        removeHeader: true
    test-ipallowlist:
      ipAllowList:
        sourceRange:
          - "127.0.0.1/32"
          - "192.168.1.7"
        ipStrategy:
          depth: 2
          excludedIPs:
            - "10.0.0.1"
    test-ratelimit:
      rateLimit:
        average: 100
        period: 1m
        burst: 200
        sourceCriterion:
          requestHeaderName: username
    test-inflightreq:
      inFlightReq:
        amount: 10
        sourceCriterion:
          ipStrategy:
            depth: 2
    test-retry:
      retry:
        attempts: 4
        initialInterval: 100ms
    test-compress:
      compress:
        excludedContentTypes:
          - text/event-stream
        minResponseBodyBytes: 1200
    latency-check:
      circuitBreaker:
        expression: "LatencyAtQuantileMS(50.0) > 100"
        checkPeriod: 100ms
        fallbackDuration: 10s
        recoveryDuration: 10s
    limit:
      buffering:
        maxRequestBodyBytes: 2000000
        memRequestBodyBytes: 1000000
        retryExpression: "IsNetworkError() && Attempts() < 2"
    test-auth-forward:
      forwardAuth:
        address: "https://example.com/auth"
        trustForwardHeader: true
        authResponseHeaders:
          - "X-Auth-User"
          - "X-Secret"
        tls:
          ca: "path/to/local.crt"
          insecureSkipVerify: true
    secured:
      chain:
        middlewares:
          - https-redirect
          - known-ips
          - auth-users
)~",
     R"~({"http":{"middlewares":{
        "add-foo":{"addPrefix":{"prefix":"/foo"}},
        "test-stripprefix":{"stripPrefix":{"prefixes":["/foobar","/fiibar"],"forceSlash":false}},
        "test-stripprefixregex":{"stripPrefixRegex":{"regex":["/foo/[a-z0-9]+/[0-9]+/"]}},
        "test-replacepath":{"replacePath":{"path":"/foo"}},
        "test-replacepathregex":{"replacePathRegex":{"regex":"^/foo/(.*)",
                                                     "replacement":"/bar/$1"}},
        "test-redirectscheme":{"redirectScheme":{"scheme":"https","port":"443",
                                                 "permanent":true}},
        "test-redirectregex":{"redirectRegex":{"regex":"^http://localhost/(.*)",
                                               "replacement":"http://mydomain/${1}"}},
        "test-headers":{"headers":{
            "customRequestHeaders":{"X-Script-Name":"test","X-Custom-Request-Header":""},
            "customResponseHeaders":{"X-Custom-Response-Header":"value"},
            "accessControlAllowMethods":["GET","OPTIONS","PUT"],
            "accessControlAllowHeaders":["*"],
            "accessControlAllowOriginList":["https://foo.bar.org","https://example.org"],
            "accessControlMaxAge":100,"addVaryHeader":true,"frameDeny":true,
            "sslProxyHeaders":{"X-Forwarded-Proto":"https"},"stsSeconds":31536000,
            "stsIncludeSubdomains":true,"stsPreload":true,"forceSTSHeader":true,
            "contentSecurityPolicy":"default-src 'self'"}},
        "test-auth":{"basicAuth":{"users":["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/",
                                           "test2:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0"],
                                  "realm":"MyRealm","removeHeader":true}},
        "test-ipallowlist":{"ipAllowList":{"sourceRange":["127.0.0.1/32","192.168.1.7"],
                            "ipStrategy":{"depth":2,"excludedIPs":["10.0.0.1"]}}},
        "test-ratelimit":{"rateLimit":{"average":100,"period":"1m0s","burst":200,
                          "sourceCriterion":{"requestHeaderName":"username"}}},
        "test-inflightreq":{"inFlightReq":{"amount":10,
                            "sourceCriterion":{"ipStrategy":{"depth":2}}}},
        "test-retry":{"retry":{"attempts":4,"initialInterval":"100ms"}},
        "test-compress":{"compress":{"excludedContentTypes":["text/event-stream"],
                                     "minResponseBodyBytes":1200}},
        "latency-check":{"circuitBreaker":{"expression":"LatencyAtQuantileMS(50.0) > 100",
                         "checkPeriod":"100ms","fallbackDuration":"10s",
                         "recoveryDuration":"10s"}},
        "limit":{"buffering":{"maxRequestBodyBytes":2000000,"memRequestBodyBytes":1000000,
                 "retryExpression":"IsNetworkError() && Attempts() < 2"}},
        "test-auth-forward":{"forwardAuth":{"address":"https://example.com/auth",
                             "trustForwardHeader":true,
                             "authResponseHeaders":["X-Auth-User","X-Secret"],
                             "tls":{"ca":"path/to/local.crt","insecureSkipVerify":true}}},
        "secured":{"chain":{"middlewares":["https-redirect","known-ips","auth-users"]}}}}})~",
     "{}"},
    {"every middleware kind", Format::toml, R"~(
[http.middlewares]
  [http.middlewares.add-foo.addPrefix]
    prefix = "/foo"
  [http.middlewares.test-stripprefix.stripPrefix]
    prefixes = ["/foobar", "/fiibar"]
    forceSlash = false
  [http.middlewares.test-stripprefixregex.stripPrefixRegex]
    regex = ["/foo/[a-z0-9]+/[0-9]+/"]
  [http.middlewares.test-replacepath.replacePath]
    path = "/foo"
  [http.middlewares.test-replacepathregex.replacePathRegex]
    regex = "^/foo/(.*)"
    replacement = "/bar/$1"
  [http.middlewares.test-redirectscheme.redirectScheme]
    scheme = "https"
    port = 443
    permanent = true
  [http.middlewares.test-redirectregex.redirectRegex]
    regex = "^http://localhost/(.*)"
    replacement = "http://mydomain/${1}"
  [http.middlewares.test-headers.headers]
    accessControlAllowMethods = ["GET", "OPTIONS", "PUT"]
    accessControlAllowHeaders = ["*"]
    accessControlAllowOriginList = ["https://foo.bar.org", "https://example.org"]
    accessControlMaxAge = 100
    addVaryHeader = true
    frameDeny = true
    stsSeconds = 31536000
    stsIncludeSubdomains = true
    stsPreload = true
    forceSTSHeader = true
    contentSecurityPolicy = "default-src 'self'"
    [http.middlewares.test-headers.headers.customRequestHeaders]
      X-Script-Name = "test"
      X-Custom-Request-Header = ""
    [http.middlewares.test-headers.headers.customResponseHeaders]
      X-Custom-Response-Header = "value"
    [http.middlewares.test-headers.headers.sslProxyHeaders]
      X-Forwarded-Proto = "https"
  [http.middlewares.test-auth.basicAuth]
    users = [
      "test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/",
      "test2:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0",
    ]
    realm = "MyRealm"
    removeHeader = true
  [http.middlewares.test-ipallowlist.ipAllowList]
    sourceRange = ["127.0.0.1/32", "192.168.1.7"]
    [http.middlewares.test-ipallowlist.ipAllowList.ipStrategy]
      depth = 2
      excludedIPs = ["10.0.0.1"]
  [http.middlewares.test-ratelimit.rateLimit]
    average = 100
    period = "1m"
    burst = 200
    [http.middlewares.test-ratelimit.rateLimit.sourceCriterion]
      requestHeaderName = "username"
  [http.middlewares.test-inflightreq.inFlightReq]
    amount = 10
    [http.middlewares.test-inflightreq.inFlightReq.sourceCriterion.ipStrategy]
      depth = 2
  [http.middlewares.test-retry.retry]
    attempts = 4
    initialInterval = "100ms"
  [http.middlewares.test-compress.compress]
    excludedContentTypes = ["text/event-stream"]
    minResponseBodyBytes = 1200
  [http.middlewares.latency-check.circuitBreaker]
    expression = "LatencyAtQuantileMS(50.0) > 100"
    checkPeriod = "100ms"
    fallbackDuration = "10s"
    recoveryDuration = "10s"
  [http.middlewares.limit.buffering]
    maxRequestBodyBytes = 2000000
    memRequestBodyBytes = 1000000
    retryExpression = "IsNetworkError() && Attempts() < 2"
  [http.middlewares.test-auth-forward.forwardAuth]
    address = "https://example.com/auth"
    trustForwardHeader = true
    authResponseHeaders = ["X-Auth-User", "X-Secret"]
    [http.middlewares.test-auth-forward.forwardAuth.tls]
      ca = "path/to/local.crt"
      insecureSkipVerify = true
  [http.middlewares.secured.chain]
    middlewares = ["https-redirect", "known-ips", "auth-users"]
)~",
     R"~({"http":{"middlewares":{
        "add-foo":{"addPrefix":{"prefix":"/foo"}},
        "test-stripprefix":{"stripPrefix":{"prefixes":["/foobar","/fiibar"],"forceSlash":false}},
        "test-stripprefixregex":{"stripPrefixRegex":{"regex":["/foo/[a-z0-9]+/[0-9]+/"]}},
        "test-replacepath":{"replacePath":{"path":"/foo"}},
        "test-replacepathregex":{"replacePathRegex":{"regex":"^/foo/(.*)",
                                                     "replacement":"/bar/$1"}},
        "test-redirectscheme":{"redirectScheme":{"scheme":"https","port":"443",
                                                 "permanent":true}},
        "test-redirectregex":{"redirectRegex":{"regex":"^http://localhost/(.*)",
                                               "replacement":"http://mydomain/${1}"}},
        "test-headers":{"headers":{
            "customRequestHeaders":{"X-Script-Name":"test","X-Custom-Request-Header":""},
            "customResponseHeaders":{"X-Custom-Response-Header":"value"},
            "accessControlAllowMethods":["GET","OPTIONS","PUT"],
            "accessControlAllowHeaders":["*"],
            "accessControlAllowOriginList":["https://foo.bar.org","https://example.org"],
            "accessControlMaxAge":100,"addVaryHeader":true,"frameDeny":true,
            "sslProxyHeaders":{"X-Forwarded-Proto":"https"},"stsSeconds":31536000,
            "stsIncludeSubdomains":true,"stsPreload":true,"forceSTSHeader":true,
            "contentSecurityPolicy":"default-src 'self'"}},
        "test-auth":{"basicAuth":{"users":["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/",
                                           "test2:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0"],
                                  "realm":"MyRealm","removeHeader":true}},
        "test-ipallowlist":{"ipAllowList":{"sourceRange":["127.0.0.1/32","192.168.1.7"],
                            "ipStrategy":{"depth":2,"excludedIPs":["10.0.0.1"]}}},
        "test-ratelimit":{"rateLimit":{"average":100,"period":"1m0s","burst":200,
                          "sourceCriterion":{"requestHeaderName":"username"}}},
        "test-inflightreq":{"inFlightReq":{"amount":10,
                            "sourceCriterion":{"ipStrategy":{"depth":2}}}},
        "test-retry":{"retry":{"attempts":4,"initialInterval":"100ms"}},
        "test-compress":{"compress":{"excludedContentTypes":["text/event-stream"],
                                     "minResponseBodyBytes":1200}},
        "latency-check":{"circuitBreaker":{"expression":"LatencyAtQuantileMS(50.0) > 100",
                         "checkPeriod":"100ms","fallbackDuration":"10s",
                         "recoveryDuration":"10s"}},
        "limit":{"buffering":{"maxRequestBodyBytes":2000000,"memRequestBodyBytes":1000000,
                 "retryExpression":"IsNetworkError() && Attempts() < 2"}},
        "test-auth-forward":{"forwardAuth":{"address":"https://example.com/auth",
                             "trustForwardHeader":true,
                             "authResponseHeaders":["X-Auth-User","X-Secret"],
                             "tls":{"ca":"path/to/local.crt","insecureSkipVerify":true}}},
        "secured":{"chain":{"middlewares":["https-redirect","known-ips","auth-users"]}}}}})~",
     "{}"},

    {"tls certificates, options and stores", Format::yaml, R"~(
tls:
  certificates:
    - certFile: /path/to/domain.cert
      keyFile: /path/to/domain.key
    - certFile: /path/to/other.cert
      keyFile: /path/to/other.key
      stores:
        - default
  options:
    default:
      minVersion: VersionTLS12
    mintls13:
      minVersion: VersionTLS13
      maxVersion: VersionTLS13
      cipherSuites:
        - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
      curvePreferences:
        - CurveP521
        - CurveP384
      sniStrict: true
      alpnProtocols:
        - h2
      clientAuth:
        caFiles:
          - tests/clientca1.crt
          - tests/clientca2.crt
        clientAuthType: RequireAndVerifyClientCert
  stores:
    default:
      defaultCertificate:
        certFile: path/to/cert.crt
        keyFile: path/to/cert.key
    other:
      defaultGeneratedCert:
        resolver: myresolver
        domain:
          main: example.org
          sans:
            - foo.example.org
)~",
     R"~({"http":{}})~",
     R"~({"certificates":[{"certFile":"/path/to/domain.cert","keyFile":"/path/to/domain.key"},
                         {"certFile":"/path/to/other.cert","keyFile":"/path/to/other.key",
                          "stores":["default"]}],
         "options":{"default":{"minVersion":"VersionTLS12"},
                    "mintls13":{"minVersion":"VersionTLS13","maxVersion":"VersionTLS13",
                                "cipherSuites":["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
                                "curvePreferences":["CurveP521","CurveP384"],"sniStrict":true,
                                "alpnProtocols":["h2"],
                                "clientAuth":{"caFiles":["tests/clientca1.crt",
                                                         "tests/clientca2.crt"],
                                              "clientAuthType":"RequireAndVerifyClientCert"}}},
         "stores":{"default":{"defaultCertificate":{"certFile":"path/to/cert.crt",
                                                    "keyFile":"path/to/cert.key"}},
                   "other":{"defaultGeneratedCert":{"resolver":"myresolver",
                            "domain":{"main":"example.org","sans":["foo.example.org"]}}}}})~"},
    {"tls certificates, options and stores", Format::toml, R"~(
[[tls.certificates]]
  certFile = "/path/to/domain.cert"
  keyFile = "/path/to/domain.key"

[[tls.certificates]]
  certFile = "/path/to/other.cert"
  keyFile = "/path/to/other.key"
  stores = ["default"]

[tls.options]
  [tls.options.default]
    minVersion = "VersionTLS12"
  [tls.options.mintls13]
    minVersion = "VersionTLS13"
    maxVersion = "VersionTLS13"
    cipherSuites = [
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    ]
    curvePreferences = ["CurveP521", "CurveP384"]
    sniStrict = true
    alpnProtocols = ["h2"]
    [tls.options.mintls13.clientAuth]
      caFiles = ["tests/clientca1.crt", "tests/clientca2.crt"]
      clientAuthType = "RequireAndVerifyClientCert"

[tls.stores]
  [tls.stores.default.defaultCertificate]
    certFile = "path/to/cert.crt"
    keyFile = "path/to/cert.key"
  [tls.stores.other.defaultGeneratedCert]
    resolver = "myresolver"
    [tls.stores.other.defaultGeneratedCert.domain]
      main = "example.org"
      sans = ["foo.example.org"]
)~",
     R"~({"http":{}})~",
     R"~({"certificates":[{"certFile":"/path/to/domain.cert","keyFile":"/path/to/domain.key"},
                         {"certFile":"/path/to/other.cert","keyFile":"/path/to/other.key",
                          "stores":["default"]}],
         "options":{"default":{"minVersion":"VersionTLS12"},
                    "mintls13":{"minVersion":"VersionTLS13","maxVersion":"VersionTLS13",
                                "cipherSuites":["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
                                "curvePreferences":["CurveP521","CurveP384"],"sniStrict":true,
                                "alpnProtocols":["h2"],
                                "clientAuth":{"caFiles":["tests/clientca1.crt",
                                                         "tests/clientca2.crt"],
                                              "clientAuthType":"RequireAndVerifyClientCert"}}},
         "stores":{"default":{"defaultCertificate":{"certFile":"path/to/cert.crt",
                                                    "keyFile":"path/to/cert.key"}},
                   "other":{"defaultGeneratedCert":{"resolver":"myresolver",
                            "domain":{"main":"example.org","sans":["foo.example.org"]}}}}})~"},

    // YAML's untyped scalars: quoted numbers and booleans still decode, numbers decode into
    // string fields, a comma-separated string into a list; case-insensitive keys; an anchor with
    // a merge key.
    {"scalars, case and merge keys", Format::yaml, R"~(
HTTP:
  routers:
    a:
      Rule: "Host(`a`)"
      service: "8080"
      priority: "10"
      entryPoints: web, websecure
    b:
      <<: &defaults
        rule: "Host(`b`)"
        service: svc
      priority: 5
  services:
    svc:
      loadBalancer:
        passHostHeader: "true"
        servers:
          - url: http://10.0.0.1:80
            weight: 0
)~",
     R"~({"http":{"routers":{"a":{"rule":"Host(`a`)","service":"8080","priority":10,
                                 "entryPoints":["web","websecure"]},
                            "b":{"rule":"Host(`b`)","service":"svc","priority":5}},
                 "services":{"svc":{"loadBalancer":{"passHostHeader":true,
                             "servers":[{"url":"http://10.0.0.1:80","weight":0}]}}}}})~",
     "{}"},
    {"empty document", Format::yaml, "# nothing yet\n", R"~({"http":{}})~", "{}"},
    {"empty document", Format::toml, "# nothing yet\n", R"~({"http":{}})~", "{}"},
};

}  // namespace

TEST_CASE("Traefik's documented samples parse in YAML and TOML") {
  const auto& sample = GENERATE(from_range(std::begin(samples), std::end(samples)));
  INFO(sample.topic << (sample.format == Format::yaml ? " (yaml)" : " (toml)"));
  auto parsed = file::parse_document(sample.text, sample.format, "dynamic.conf");
  if (const auto* error = std::get_if<file::FileError>(&parsed)) FAIL(error->to_string());
  const auto& document = std::get<file::Document>(parsed);
  CHECK(config::to_json(document.configuration) == json::parse(sample.expected_http));
  CHECK(config::to_json(document.tls) == json::parse(sample.expected_tls));
  CHECK(document.diagnostics.empty());
}

TEST_CASE("the decoded values are the documented ones") {
  auto parsed = file::parse_document(samples[2].text, Format::yaml, "services.yml");
  REQUIRE(std::holds_alternative<file::Document>(parsed));
  const auto& services = std::get<file::Document>(parsed).configuration.http.services;
  const auto& lb = std::get<config::LoadBalancer>(services.at("my-service").kind);
  REQUIRE(lb.servers.size() == 2);
  CHECK(lb.servers[0].weight == 2);
  REQUIRE(lb.health_check.has_value());
  CHECK(lb.health_check->interval == std::chrono::seconds{10});
  CHECK(lb.health_check->unhealthy_interval == std::chrono::seconds{30});
  CHECK(lb.health_check->port == 8080);
  CHECK(lb.pass_host_header == false);
}

TEST_CASE("tcp and udp sections are ignored with a note") {
  const char* text = R"~(
http:
  routers:
    web:
      rule: "Host(`a`)"
      service: s
tcp:
  routers:
    to-db:
      rule: "HostSNI(`*`)"
      service: db
udp:
  services:
    dns:
      loadBalancer:
        servers:
          - address: "10.0.0.1:53"
)~";
  auto parsed = file::parse_document(text, Format::yaml, "mixed.yml");
  REQUIRE(std::holds_alternative<file::Document>(parsed));
  const auto& document = std::get<file::Document>(parsed);
  CHECK(document.configuration.http.routers.count("web") == 1);
  REQUIRE(document.diagnostics.size() == 2);
  for (const auto& diagnostic : document.diagnostics) {
    CHECK(diagnostic.severity == config::Severity::info);
    CHECK(diagnostic.resource == config::ResourceKind::provider);
    CHECK(diagnostic.name == "mixed.yml");
  }
  CHECK(document.diagnostics[0].message.find("tcp") != std::string::npos);
  CHECK(document.diagnostics[1].message.find("udp") != std::string::npos);
}

namespace {

struct ErrorCase {
  const char* what;
  Format format;
  const char* text;
  std::size_t line;
  std::size_t column;   ///< 0: not checked
  const char* message;  ///< a part of the message
};

const ErrorCase error_cases[] = {
    {"yaml syntax error", Format::yaml, "http:\n  routers:\n    a:\n      rule: x: y\n", 4, 14,
     "illegal map value"},
    {"yaml unclosed flow", Format::yaml, "http:\n  routers:\n    a: [x, y\n    b: c\n", 4, 0,
     "end of sequence flow not found"},
    {"yaml bad indentation", Format::yaml,
     "http:\n  routers:\n    a:\n      rule: x\n     service: s\n", 5, 0, ""},
    {"toml syntax error", Format::toml, "[http.routers.a]\nrule = \nservice = \"s\"\n", 2, 0, ""},
    {"toml duplicate key", Format::toml, "[http.routers.a]\nrule = \"x\"\nrule = \"y\"\n", 3, 0,
     ""},
    {"yaml wrong type", Format::yaml,
     "http:\n  routers:\n    a:\n      rule: x\n      priority: high\n", 5, 7,
     "http.routers.a.priority: expected an integer, got \"high\""},
    {"yaml wrong boolean", Format::yaml,
     "http:\n  services:\n    s:\n      loadBalancer:\n        passHostHeader: maybe\n", 5, 9,
     "http.services.s.loadBalancer.passHostHeader: expected a boolean, got \"maybe\""},
    {"yaml list expected", Format::yaml,
     "http:\n  routers:\n    a:\n      entryPoints: {web: true}\n", 4, 7,
     "http.routers.a.entryPoints: expected an array, got an object"},
    {"yaml bad duration", Format::yaml,
     "http:\n  middlewares:\n    r:\n      retry:\n        attempts: 3\n"
     "        initialInterval: soon\n",
     6, 9, "http.middlewares.r.retry.initialInterval: invalid duration \"soon\""},
    {"yaml error inside a list", Format::yaml,
     "http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n"
     "          - url: http://a\n          - url: http://b\n            weight: heavy\n",
     8, 13, "http.services.s.loadBalancer.servers[1].weight: expected an integer"},
    {"toml wrong type", Format::toml, "[http.routers.a]\nrule = \"x\"\nentryPoints = 80\n", 3, 0,
     "http.routers.a.entryPoints: expected an array, got a number"},
    {"toml float for an integer", Format::toml, "[http.routers.a]\npriority = 1.5\n", 2, 0,
     "http.routers.a.priority: expected an integer"},
    {"yaml unknown field", Format::yaml,
     "http:\n  routers:\n    a:\n      rule: x\n      rules: y\n", 5, 7,
     "http.routers.a.rules: unknown field"},
    {"toml unknown field", Format::toml, "[http.routers.a]\nrule = \"x\"\nrules = \"y\"\n", 3, 0,
     "http.routers.a.rules: unknown field"},
    {"unknown middleware kind", Format::yaml,
     "http:\n  middlewares:\n    m:\n      stripPrefixes:\n        prefixes: [/a]\n", 3, 5,
     "unknown middleware type \"stripPrefixes\""},
    {"unknown service kind", Format::yaml,
     "http:\n  services:\n    s:\n      mirroring:\n        service: a\n", 3, 5,
     "unsupported service type \"mirroring\""},
    {"unknown section", Format::yaml, "\nhttps:\n  routers: {}\n", 2, 1, "https: unknown section"},
    {"tls wrong type", Format::yaml, "tls:\n  options:\n    default:\n      sniStrict: sure\n", 4,
     7, "tls.options.default.sniStrict: expected a boolean"},
    {"yaml duplicate key", Format::yaml,
     "http:\n  routers:\n    a:\n      rule: x\n    a:\n      rule: y\n", 5, 5,
     "duplicate key \"a\""},
    {"not a mapping", Format::yaml, "- http\n", 1, 1, "expected a mapping of sections"},
    {"yaml template", Format::yaml,
     "http:\n  routers:\n{{ range $i, $e := until 3 }}\n    r{{ $e }}:\n      rule: x\n"
     "{{ end }}\n",
     3, 1, "Go templates"},
    {"toml template", Format::toml, "[http.routers.a]\nrule = \"Host(`{{ env \"HOST\" }}`)\"\n", 2,
     15, "Go templates"},
};

}  // namespace

TEST_CASE("errors name the file, the position and the path") {
  const auto& error_case = GENERATE(from_range(std::begin(error_cases), std::end(error_cases)));
  INFO(error_case.what << "\n" << error_case.text);
  auto parsed = file::parse_document(error_case.text, error_case.format, "conf/dynamic.yml");
  REQUIRE(std::holds_alternative<file::FileError>(parsed));
  const auto& error = std::get<file::FileError>(parsed);
  INFO(error.to_string());
  CHECK(error.file == "conf/dynamic.yml");
  CHECK(error.line == error_case.line);
  if (error_case.column != 0) CHECK(error.column == error_case.column);
  CHECK(error.message.find(error_case.message) != std::string::npos);
  CHECK_FALSE(error.message.empty());
  CHECK(error.to_string().rfind("conf/dynamic.yml:" + std::to_string(error_case.line) + ":", 0) ==
        0);
}

TEST_CASE("merging files drops resources defined twice and names both files") {
  const auto parse = [](const char* text) {
    auto parsed = file::parse_document(text, Format::yaml, "x.yml");
    REQUIRE(std::holds_alternative<file::Document>(parsed));
    return std::get<file::Document>(std::move(parsed));
  };
  const auto first = parse(R"~(
http:
  routers:
    shared: {rule: "Host(`a`)", service: one}
    only-a: {rule: "Host(`b`)", service: one}
  services:
    one: {loadBalancer: {servers: [{url: "http://a"}]}}
tls:
  certificates: [{certFile: a.crt, keyFile: a.key}]
  options: {modern: {minVersion: VersionTLS13}}
)~");
  const auto second = parse(R"~(
http:
  routers:
    shared: {rule: "Host(`c`)", service: two}
  middlewares:
    strip: {stripPrefix: {prefixes: [/api]}}
tls:
  certificates: [{certFile: b.crt, keyFile: b.key}]
  options: {modern: {minVersion: VersionTLS12}}
)~");
  const auto update = file::merge({{"dir/a.yml", first}, {"dir/b.yml", second}});
  CHECK(update.files == std::vector<std::string>{"dir/a.yml", "dir/b.yml"});
  const auto& http = update.configuration.http;
  CHECK(http.routers.count("shared") == 0);
  CHECK(http.routers.count("only-a") == 1);
  CHECK(http.services.count("one") == 1);
  CHECK(http.middlewares.count("strip") == 1);
  CHECK(update.tls.certificates.size() == 2);
  CHECK(update.tls.options.empty());
  REQUIRE(update.diagnostics.size() == 2);
  const auto& router = update.diagnostics[0];
  CHECK(router.resource == config::ResourceKind::router);
  CHECK(router.name == "shared");
  CHECK(router.severity == config::Severity::error);
  CHECK(router.message.find("dir/a.yml and dir/b.yml") != std::string::npos);
  const auto& options = update.diagnostics[1];
  CHECK(options.resource == config::ResourceKind::provider);
  CHECK(options.name == "tls.options.modern");
  CHECK(options.message.find("dir/a.yml and dir/b.yml") != std::string::npos);
}

TEST_CASE("options name exactly one source") {
  config::FileProvider source;
  CHECK(file::validate(source).has_value());
  source.filename = "a.yml";
  CHECK_FALSE(file::validate(source).has_value());
  source.directory = "conf";
  CHECK(file::validate(source).has_value());
}

TEST_CASE("formats by extension") {
  CHECK(file::format_of("a/b.yml") == Format::yaml);
  CHECK(file::format_of("b.yaml") == Format::yaml);
  CHECK(file::format_of("b.toml") == Format::toml);
  CHECK_FALSE(file::format_of("b.json").has_value());
  CHECK_FALSE(file::format_of("b.yml.swp").has_value());
  auto read = file::read_document("b.json");
  REQUIRE(std::holds_alternative<file::FileError>(read));
  CHECK(std::get<file::FileError>(read).message.find("extension") != std::string::npos);
}

namespace {

std::string repeat(std::string_view text, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += text;
  return out;
}

std::string alias_bomb() {
  // Each level repeats the previous one ten times: 10^8 scalars once expanded.
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level <= 8; ++level) {
    const auto previous = "*a" + std::to_string(level - 1);
    text += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [" + previous;
    for (int i = 1; i < 10; ++i) text += ", " + previous;
    text += "]\n";
  }
  return text + "http:\n  routers:\n    r:\n      entryPoints: *a8\n";
}

}  // namespace

TEST_CASE("hostile input gives an error, never a crash") {
  struct Hostile {
    const char* what;
    Format format;
    std::string text;
    const char* message;  ///< a part of the message; empty: any
  };
  const Hostile cases[] = {
      {"deep toml arrays", Format::toml, "a = " + std::string(100000, '['), "nesting too deep"},
      {"deep toml inline tables", Format::toml, "a = " + repeat("{b = ", 100000),
       "nesting too deep"},
      {"deep yaml flow", Format::yaml, "http: " + std::string(100000, '['), ""},
      {"yaml alias bomb", Format::yaml, alias_bomb(), "document too large"},
      {"binary yaml", Format::yaml, std::string("\xff\xfe\0garbage\x01", 11), ""},
      {"binary toml", Format::toml, std::string("\xff\xfe\0garbage\x01", 11), ""},
  };
  for (const auto& hostile : cases) {
    INFO(hostile.what);
    auto parsed = file::parse_document(hostile.text, hostile.format, "hostile");
    REQUIRE(std::holds_alternative<file::FileError>(parsed));
    CHECK(std::get<file::FileError>(parsed).message.find(hostile.message) != std::string::npos);
  }
  // Brackets inside strings and comments do not count as nesting.
  std::string brackets = "# " + std::string(100, '[') + "\n[http.routers.a]\nrule = \"" +
                         std::string(100, '[') + "\"\nservice = '" + repeat("{ ", 100) + "'\n";
  auto parsed = file::parse_document(brackets, Format::toml, "strings.toml");
  if (const auto* error = std::get_if<file::FileError>(&parsed)) FAIL(error->to_string());
}
