# Configuration errors stop httpd at startup (apache2 -t) with a message naming the
# directive; the shipped demo configuration loads.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;

my $root = t_root();
my $keys = "$root/keys";
my $mods = "$root/modules";
my $tmp = "$root/logs/cfg";
mkdir $tmp;

my $head = <<"CONF";
ServerRoot $tmp
ServerName localhost
PidFile $tmp/httpd.pid
ErrorLog $tmp/error.log
Listen 127.0.0.1:1
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule slotmem_shm_module /usr/lib/apache2/modules/mod_slotmem_shm.so
LoadModule ekey_module $mods/mod_ekey.so
LoadModule ekey_issuer_module $mods/mod_ekey_issuer.so
CONF
my $loc = "AuthType EKey\nEKeyIssuer https://issuer.example\nEKeyAudience https://api.example.com\n"
        . "EKeyTrustedKey $keys/issuer.pub.pem\nEKeyPublicOrigin https://api.example.com\n";

# [name, body, directive the message must name]
my @bad = (
  ['EKeyClockSkew not a number', "<Location /a>\n${loc}EKeyClockSkew soon\n</Location>", 'EKeyClockSkew'],
  ['EKeyClockSkew out of range', "<Location /a>\n${loc}EKeyClockSkew 100000\n</Location>", 'EKeyClockSkew'],
  ['EKeyMaxTTL zero', "<Location /a>\n${loc}EKeyMaxTTL 0\n</Location>", 'EKeyMaxTTL'],
  ['EKeyProofMaxAge negative', "<Location /a>\n${loc}EKeyProofMaxAge -5\n</Location>", 'EKeyProofMaxAge'],
  ['EKeyTrustedKey missing file', "<Location /a>\n${loc}EKeyTrustedKey /nonexistent/key.pem\n</Location>", 'EKeyTrustedKey'],
  ['EKeyPublicOrigin with a path', "<Location /a>\n${loc}EKeyPublicOrigin https://api.example.com/x\n</Location>", 'EKeyPublicOrigin'],
  ['EKeyPublicOrigin not http', "<Location /a>\n${loc}EKeyPublicOrigin ftp://api.example.com\n</Location>", 'EKeyPublicOrigin'],
  ['EKeyTokenAlgorithms none', "<Location /a>\n${loc}EKeyTokenAlgorithms none\n</Location>", 'EKeyTokenAlgorithms'],
  ['EKeyReplayStore unknown', "EKeyReplayStore memcache", 'EKeyReplayStore'],
  ['EKeyReplayCapacity too small', "EKeyReplayCapacity 2", 'EKeyReplayCapacity'],
  ['Require ekey-cap bad line', "<Location /a>\n${loc}Require ekey-cap POST/payments\n</Location>", 'ekey-cap'],
  ['EKeyIssuerMaxLimit zero', "<Location /t>\nEKeyIssuerMaxLimit 0\n</Location>", 'EKeyIssuerMaxLimit'],
  ['EKeyIssuerSigningKey public key', "<Location /t>\nEKeyIssuerSigningKey $keys/issuer.pub.pem\n</Location>", 'EKeyIssuerSigningKey'],
  ['EKeyIssuerCapability bad pattern', "<Location /t>\nEKeyIssuerCapability payments\n</Location>", 'EKeyIssuerCapability'],
  ['EKeyMaxUses zero', "<Location /a>\n${loc}EKeyMaxUses 0\n</Location>", 'EKeyMaxUses'],
  ['EKeyMaxTokenLength tiny', "<Location /a>\n${loc}EKeyMaxTokenLength 10\n</Location>", 'EKeyMaxTokenLength'],
  ['EKeyProofAlgorithms HS256', "<Location /a>\n${loc}EKeyProofAlgorithms HS256\n</Location>", 'EKeyProofAlgorithms'],
  ['EKeyProofAlgorithms without ES256', "<Location /a>\n${loc}EKeyProofAlgorithms EdDSA\n</Location>", 'ES256 proofs are always accepted'],
  ['EKeyTokenAlgorithms RS256', "<Location /a>\n${loc}EKeyTokenAlgorithms RS256\n</Location>", 'EKeyTokenAlgorithms'],
  ['EKeyRedisServer bad port', "EKeyRedisServer 127.0.0.1:notaport", 'EKeyRedisServer'],
  ['EKeyIssuerName without a host', "<Location /t>\nEKeyIssuerName http://\n</Location>", 'EKeyIssuerName'],
  ['EKeyIssuerName with an empty host', "<Location /t>\nEKeyIssuerName https:///issuer\n</Location>", 'EKeyIssuerName'],
  ['EKeyRedisServer two ports', "EKeyRedisServer 127.0.0.1:6390:7", 'EKeyRedisServer'],
  ['EKeyRedisTLS On without a CA', "EKeyReplayStore redis\nEKeyRedisTLS On", 'EKeyRedisTLSCA'],
  ['EKeyRedisTLSCert without its key', "EKeyRedisTLS On\nEKeyRedisTLSCA $keys/issuer.pub.pem\nEKeyRedisTLSCert $keys/issuer.pub.pem", 'EKeyRedisTLSKey'],
  ['EKeyRedisTLSCA missing file', "EKeyRedisTLS On\nEKeyRedisTLSCA /nonexistent/ca.pem", 'EKeyRedisTLSCA'],
  ['EKeyRedisTLS over a Unix socket', "EKeyReplayStore redis\nEKeyRedisServer /run/redis/redis.sock\nEKeyRedisTLS On\nEKeyRedisTLSCA $keys/issuer.pub.pem", 'not a Unix socket'],
  ['EKeyRedisTLSCA not a certificate', "EKeyRedisTLS On\nEKeyRedisTLSCA $keys/issuer.pub.pem", 'EKeyRedisTLSCA'],
  ['EKeyIssuerMaxTTL zero', "<Location /t>\nEKeyIssuerMaxTTL 0\n</Location>", 'EKeyIssuerMaxTTL'],
  ['EKeyTrustedJWKS missing file', "<Location /a>\n${loc}EKeyTrustedJWKS /nonexistent/jwks.json\n</Location>", 'EKeyTrustedJWKS'],
);

plan tests => 2 * @bad + 2 + 2 + 5 + 3 + 2 + 2 + 3 + 2;

my $n = 0;
sub configtest {
    my ($name, $body) = @_;
    my $f = sprintf('%s/case%02d.conf', $tmp, ++$n);   # the name must not leak into messages
    open(my $fh, '>', $f) or die "$f: $!";
    print $fh $head, $body, "\n";
    close $fh;
    my $out = `/usr/sbin/apache2 -t -f '$f' 2>&1`;
    return ($? >> 8, $out);
}

for my $b (@bad) {
    my ($rc, $out) = configtest($b->[0], $b->[1]);
    ok t_cmp($rc != 0 ? 'refused' : 'accepted', 'refused', "$b->[0]: refused");
    ok t_cmp($out, qr/\Q$b->[2]\E/, "$b->[0]: message names $b->[2]");
}

# A location that cannot verify anything (no trusted key) is refused at startup too.
{
    my ($rc, $out) = configtest('no keys', "<Location /a>\nAuthType EKey\nEKeyIssuer https://i.example\nEKeyAudience https://a.example\nRequire valid-user\n</Location>");
    ok t_cmp($rc != 0 ? 'refused' : 'accepted', 'refused', 'AuthType EKey without keys refused');
}
{
    my ($rc, $out) = configtest('good', "<Location /a>\n${loc}Require ekey-cap POST:/a\n</Location>");
    ok t_cmp("$rc $out", qr/^0 .*Syntax OK/s, 'a complete location is accepted');
}

# A virtual host's <Location /token> inherits the main server's section of the same path
# (httpd walks those first): overriding one directive there is accepted; a host-only
# section that cannot mint is still refused.
{
    my $iss = "<Location /token>\nEKeyIssuerName https://issuer.example\n"
            . "EKeyIssuerSigningKey $keys/issuer.pem\nEKeyIssuerAudience https://api.example.com\n"
            . "EKeyIssuerCapability POST:/payments\n</Location>\n";
    my $vh = "<VirtualHost 127.0.0.1:1>\nServerName other.example\n<Location %s>\n"
           . "EKeyIssuerTokenURL https://other.example/token\n</Location>\n</VirtualHost>";
    my ($rc, $out) = configtest('vhost override', $iss . sprintf($vh, '/token'));
    ok t_cmp("$rc $out", qr/^0 .*Syntax OK/s, 'vhost section completed by the main server section');
    ($rc, $out) = configtest('vhost alone', $iss . sprintf($vh, '/mint'));
    ok t_cmp("$rc $out", qr/EKEY00201:.*cannot mint: no EKeyIssuerName/s,
             'vhost section not covered by a main section is refused');
    # in one server too: <Location /token/v2> is completed by the enclosing <Location /token>
    # (before or after it in the file), as httpd's location walk merges them
    my $inner = "<Location /token/v2>\nEKeyIssuerMaxTTL 120\n</Location>\n";
    ($rc, $out) = configtest('nested after', $iss . $inner);
    ok t_cmp("$rc $out", qr/^0 .*Syntax OK/s, 'inner section completed by the enclosing one');
    ($rc, $out) = configtest('nested before', $inner . $iss);
    ok t_cmp("$rc $out", qr/^0 .*Syntax OK/s, 'inner section completed by an enclosing one that follows');
    ($rc, $out) = configtest('sibling', $iss . "<Location /tokens>\nEKeyIssuerMaxTTL 120\n</Location>\n");
    ok t_cmp("$rc $out", qr/EKEY00201:.*cannot mint: no EKeyIssuerName/s,
             '/tokens is not inside /token: refused');
}

# Trusted ES256 keys get their verification table while the configuration is read (one per
# distinct key, at most 16 per server: the 17th verifies at the ordinary cost, with a notice).
{
    my ($rc, $out) = configtest('table', "LogLevel debug\n<Location /a>\n${loc}Require ekey-cap POST:/a\n</Location>");
    ok t_cmp("$rc $out", qr/^0 .*EKEY00026: EKeyTrustedKey \(.*\): 1 of 1 trusted ES256 key\(s\)/s,
             'a trusted ES256 key gets its table at startup');
    my $many = '';
    for my $i (1 .. 17) {
        my $k = "$tmp/many$i.pem";
        system("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '$k' 2>/dev/null") == 0
            or die "openssl genpkey: $?";
        $many .= "EKeyTrustedKey $k\n";
    }
    ($rc, $out) = configtest('17 keys', "LogLevel debug\n<Location /m>\n${loc}${many}Require ekey-cap POST:/m\n</Location>");
    ok t_cmp($out, qr/EKEY00026: EKeyTrustedKey \(.*\): 16 of 18 trusted ES256 key\(s\)/s,
             '16 distinct keys get a table, the others none');
    ok t_cmp("$rc $out", qr/^0 .*EKEY00025: EKeyTrustedKey/s,
             'keys beyond the 16 tables: a notice, and the configuration still loads');
}

# A section httpd merges with one of another kind (a <Files> in a <Directory>): completed
# there only at request time, so a warning, not a refusal; with nothing anywhere to complete
# it, still refused.
{
    my ($rc, $out) = configtest('files in directory', "<Directory $tmp>\n${loc}Require ekey-cap POST:/a\n"
        . "<Files pay.cgi>\nEKeyMaxUses 1\n</Files>\n</Directory>\n");
    ok t_cmp("$rc $out", qr/^0 .*EKEY00028: <Files pay\.cgi> .*lacks \[trusted keys\] \[EKeyIssuer\] \[EKeyAudience\] itself/s,
             '<Files> inside a complete <Directory>: loads, with a warning');
    ($rc, $out) = configtest('nothing anywhere', "<Location /lone>\nAuthType EKey\nEKeyMaxUses 1\nRequire ekey-cap POST:/lone\n</Location>\n");
    ok t_cmp("$rc $out", qr/EKEY00020: <Location \/lone> .*lacks \[trusted keys\] \[EKeyIssuer\] \[EKeyAudience\]/s,
             'a section nothing completes: refused');
}

# A virtual host counting uses in another store than the main server, whose E-Key
# sections apply to it too: a warning at startup (a token both accept counts in each).
{
    my $sec = "<Location /a>\n${loc}Require ekey-cap POST:/a\n</Location>\n";
    my ($rc, $out) = configtest('split stores', $sec . "<VirtualHost 127.0.0.1:1>\nServerName other.example\n"
        . "EKeyReplayStore redis\nEKeyRedisServer 127.0.0.1:6390\n</VirtualHost>\n");
    ok t_cmp("$rc $out", qr/^0 .*EKEY00027: virtual host other\.example:1 counts E-Key uses in redis 127\.0\.0\.1:6390 .*the main server in shm/s,
             'a virtual host with another store: warned, and it loads');
    ($rc, $out) = configtest('one store', $sec . "<VirtualHost 127.0.0.1:1>\nServerName other.example\n</VirtualHost>\n");
    ok t_cmp($out =~ /EKEY00027/ ? 'warned' : 'quiet', 'quiet', 'one store for all: no warning');
}

# Trusted keys none of which signs with an accepted token algorithm refuse every token:
# warned at startup, from the section's own keys or an enclosing section's; quiet when one does.
{
    my ($rc, $out) = configtest('algs mismatch', "<Location /a>\n${loc}EKeyTokenAlgorithms ES384\nRequire ekey-cap POST:/a\n</Location>\n");
    ok t_cmp("$rc $out", qr/^0 .*EKEY00029: <Location \/a> .*none of its 1 trusted key\(s\) signs with an algorithm that EKeyTokenAlgorithms accepts/s,
             'ES384 only over an ES256 key: warned, and it loads');
    ($rc, $out) = configtest('algs mismatch inherited', "<Location /a>\n${loc}EKeyTokenAlgorithms EdDSA\n</Location>\n"
        . "<Location /a/b>\nEKeyMaxUses 2\nRequire ekey-cap POST:/a/b\n</Location>\n");
    ok t_cmp($out, qr/EKEY00029: <Location \/a\/b> /s, 'the enclosing section\'s keys and algorithms count');
    ($rc, $out) = configtest('algs match', "<Location /a>\n${loc}EKeyTokenAlgorithms ES384 ES256\n</Location>\n"
        . "<Location /a/b>\nEKeyTokenAlgorithms ES256\n</Location>\n");
    ok t_cmp($out =~ /EKEY00029/ ? 'warned' : 'quiet', 'quiet', 'an accepted algorithm among the keys: no warning');
}

# An issuer signing key that mod_ssl also uses for TLS (SECURITY-CASES ISS-20): refused at
# startup, whether the key file or the certificate names it; a key of its own loads.
{
    my $ssl = "LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so\n"
            . "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n";
    my $iss = "<Location /t>\nSetHandler ekey-issuer\nEKeyIssuerName https://issuer.example\n"
            . "EKeyIssuerSigningKey $keys/issuer.pem\nEKeyIssuerAudience https://api.example.com\n"
            . "EKeyIssuerCapability POST:/payments\nEKeyIssuerAnonymous On\n</Location>\n";
    my ($rc, $out) = configtest('tls key is the signing key', $ssl
        . "SSLCertificateFile $keys/server.crt\nSSLCertificateKeyFile $keys/issuer.pem\n$iss");
    ok t_cmp("$rc $out", qr/^[1-9]\d* .*EKEY00202: .*issuer\.pem, which mod_ssl also uses for TLS/s,
             'the TLS key file signs E-Keys: refused');
    ($rc, $out) = configtest('tls key is another', $ssl
        . "SSLCertificateFile $keys/server.crt\nSSLCertificateKeyFile $keys/server.key\n$iss");
    ok t_cmp($out =~ /EKEY00202/ ? 'refused' : 'quiet', 'quiet', 'a TLS key of its own: no refusal');
}

# The demo configuration shipped in httpd-conf/ loads (with the suite's keys and modules).
{
    mkdir "$keys/htdocs";
    local $ENV{EKEY_DEMO} = $keys;
    local $ENV{EKEY_MODULES} = $mods;
    local $ENV{EKEY_CONF} = "$root/../httpd-conf";
    my $out = `/usr/sbin/apache2 -t -f '$root/../httpd-conf/demo.conf' -DEKEY_DEMO_NOUSER 2>&1`;
    ok t_cmp($? >> 8, 0, 'httpd-conf/demo.conf: configtest passes');
    ok t_cmp($out, qr/Syntax OK/, 'httpd-conf/demo.conf: Syntax OK');
}
