# The annotated examples serve real requests: a second httpd is started from
# httpd-conf/resource-dpop.conf, issuer-basic.conf, resource-mtls-spiffe.conf and
# issuer-clientcert.conf (their Defines pointed at the suite's keys and free ports), with a
# CGI application behind the gateway. Each binding mints at its issuer, is spent once (200,
# the application sees the subject) and refused the second time.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use File::Copy qw(copy);
use IO::Socket::INET ();
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use EKeyTest;

my $root = t_root();
my $keys = keys_dir();
my $dir = "$root/logs/examples";
my $conf_dir = "$root/../httpd-conf";
my $mods = '/usr/lib/apache2/modules';
my $mpm = ($ENV{EKEY_MPM} // 'event') eq 'prefork'
    ? "LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so\nLoadModule cgi_module $mods/mod_cgi.so"
    : "LoadModule mpm_event_module $mods/mod_mpm_event.so\nLoadModule cgid_module $mods/mod_cgid.so\n"
      . "ScriptSock $dir/cgisock";

my %used;
sub pick_port {
    while (1) {
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                      ReuseAddr => 1) or die "port: $!";
        my $p = $s->sockport;
        return $p unless $used{$p}++;
    }
}
my ($api, $iss, $mtls, $ciss, $app) = map { pick_port() } 1 .. 5;

# Keys where the examples expect them; a caller SVID whose CN repeats its SPIFFE ID (mod_ssl
# has no URI SAN variable for SSLUserName, see issuer-clientcert.conf).
mkdir $_ for $dir, "$dir/etc", "$dir/tls", "$dir/cgi", "$dir/logs";
copy("$keys/issuer.pem", "$dir/etc/issuer.pem") or die $!;
copy("$keys/issuer.pub.pem", "$dir/etc/issuer.pub.pem") or die $!;
copy("$keys/htpasswd", "$dir/etc/callers.htpasswd") or die $!;
copy("$keys/$_", "$dir/tls/$_") or die $! for qw(server.crt server.key);
copy("$keys/ca.crt", "$dir/tls/$_") or die $! for qw(spiffe-bundle.pem clients-ca.crt);
copy("$root/cgi/backend.cgi", "$dir/cgi/backend.cgi") or die $!;
chmod 0755, "$dir/cgi/backend.cgi";
my $spiffe = 'spiffe://example.org/agent-123';
unless (-f "$keys/spiffe.crt") {
    open(my $e, '>', "$keys/spiffe.ext") or die $!;
    print $e "subjectAltName=URI:$spiffe\nextendedKeyUsage=clientAuth\n";
    close $e;
    my $cn = $spiffe =~ s{/}{\\/}gr;          # -subj splits on unescaped slashes
    system("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '$keys/spiffe.key' "
         . "-subj '/CN=$cn' -out '$keys/spiffe.csr'") == 0 or die 'openssl req failed';
    system("openssl x509 -req -in '$keys/spiffe.csr' -CA '$keys/ca.crt' -CAkey '$keys/ca.key' "
         . "-CAcreateserial -days 2 -extfile '$keys/spiffe.ext' -out '$keys/spiffe.crt' 2>/dev/null") == 0
        or die 'openssl x509 failed';
}

open(my $fh, '>', "$dir/httpd.conf") or die "$dir/httpd.conf: $!";
print $fh <<"CONF";
ServerRoot $dir
DefaultRuntimeDir $dir
ServerName localhost
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LogLevel info ekey:debug
$mpm
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authn_file_module $mods/mod_authn_file.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule auth_basic_module $mods/mod_auth_basic.so
LoadModule alias_module $mods/mod_alias.so
LoadModule headers_module $mods/mod_headers.so
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
LoadModule slotmem_shm_module $mods/mod_slotmem_shm.so
LoadModule socache_shmcb_module $mods/mod_socache_shmcb.so
LoadModule ssl_module $mods/mod_ssl.so
LoadModule ekey_module $root/modules/mod_ekey.so
LoadModule ekey_issuer_module $root/modules/mod_ekey_issuer.so
SSLSessionCache shmcb:$dir/ssl_scache(512000)
Listen 127.0.0.1:$api
Listen 127.0.0.1:$iss
Listen 127.0.0.1:$mtls
Listen 127.0.0.1:$ciss
Listen 127.0.0.1:$app
Define APACHE_LOG_DIR $dir/logs
Define EKEY_ETC $dir/etc
Define EKEY_TLS $dir/tls
Define EKEY_BACKEND http://127.0.0.1:$app
Define EKEY_ISSUER https://localhost:$iss
Define EKEY_API_PORT $api
Define EKEY_API_ORIGIN https://localhost:$api
Define EKEY_ISSUER_PORT $iss
Define EKEY_MTLS_PORT $mtls
Define EKEY_MTLS_ORIGIN https://localhost:$mtls
Define EKEY_CERT_ISSUER_PORT $ciss
Define EKEY_CERT_ISSUER_URL https://localhost:$ciss/token
Include $conf_dir/resource-dpop.conf
Include $conf_dir/issuer-basic.conf
Include $conf_dir/resource-mtls-spiffe.conf
Include $conf_dir/issuer-clientcert.conf
# the application behind the gateways
<VirtualHost 127.0.0.1:$app>
    ScriptAlias /payments $dir/cgi/backend.cgi
    <Directory $dir/cgi>
        Require all granted
    </Directory>
</VirtualHost>
CONF
close $fh;

my @httpd = ('/usr/sbin/apache2', '-f', "$dir/httpd.conf");
sub pid_of { my $p = do { local (@ARGV, $/) = ("$dir/httpd.pid"); <> } // ''; chomp $p; $p }
my $started = 0;
END {   # never leave the second httpd behind, even when a test dies
    my $pid = $started ? pid_of() : '';
    kill 'TERM', $pid if $pid =~ /^\d+$/;
}

plan tests => 16;

my $cmd = join ' ', map { "'$_'" } @httpd;
my $out = `$cmd -t 2>&1`;
ok t_cmp("$? $out", qr/^0 Syntax OK\s*$/s, 'examples: configtest passes without warnings');
system(@httpd, '-k', 'start');
$started = 1;
my $up = 0;
for (1 .. 50) {
    last if ($up = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$api", Timeout => 1) ? 1 : 0);
    select(undef, undef, undef, 0.1);
}
ok t_cmp($up, 1, 'examples httpd started');

my $J = JSON::PP->new->canonical(1);
my $basic = 'Basic ' . encode_base64('agent-123:s3cret-pass', '');

# ---- issuer-basic.conf + resource-dpop.conf: DPoP-bound, minted with a proof and Basic.
my $k = client_key();
my $turl = "https://localhost:$iss/token";
my $mint_body = $J->encode({ sub => 'agent-123', aud => 'https://api.example.com', bind => 'DPoP',
                             cap => { action => 'POST:/payments' }, jwk => pub_jwk($k) });
my $mint = sub {
    my ($auth) = @_;
    my $p = proof($k, 'POST', $turl, undef, undef, claims => { ath => undef });
    send_req(url => $turl, tls => 1, body => $mint_body,
             headers => [['DPoP' => $p], $auth ? (['Authorization' => $auth]) : ()]);
};
my $bad = send_req(url => $turl, tls => 1, body => $mint_body,
                   headers => [['Authorization' => 'Basic ' . encode_base64('agent-123:wrong', '')]]);
ok t_cmp($bad->code, 401, 'issuer-basic: a wrong password mints nothing');
my $r = $mint->($basic);
ok t_cmp($r->code, 200, 'issuer-basic: the Basic caller mints with a DPoP proof');
my $m = body_json($r);
ok t_cmp($m->{cnf}{jkt} // '', jkt(pub_jwk($k)), 'issuer-basic: bound to the caller key');

my $aurl = "https://localhost:$api/payments";
my $spend = sub {
    my $p = proof($k, 'POST', $aurl, $m->{token}, $m->{trace});
    send_req(url => $aurl, tls => 1, headers => [['Authorization' => "EKey " . ($m->{token} // '')], ['DPoP' => $p]]);
};
my $s1 = $spend->();
ok t_cmp($s1->code, 200, 'resource-dpop: the token is accepted (proxied to the application)');
ok t_cmp(body_json($s1)->{HTTP_X_CALLER_SUB} // '', 'agent-123', 'resource-dpop: the application sees X-Caller-Sub');
my $s2 = $spend->();
ok t_cmp($s2->code . ' ' . (body_json($s2)->{error} // ''), '401 replay_detected',
         'resource-dpop: the second use is a replay');
ok t_cmp(send_req(url => $aurl, tls => 1)->code, 401, 'resource-dpop: no E-Key, 401');

# ---- issuer-clientcert.conf + resource-mtls-spiffe.conf: certificate-bound, SPIFFE subject.
my $curl = "https://localhost:$ciss/token";
my $cbody = $J->encode({ sub => $spiffe, aud => 'https://api.example.com', bind => 'mTLS',
                         cap => { action => 'POST:/payments' } });
my $c = send_req(url => $curl, tls => 'spiffe', body => $cbody);
ok t_cmp($c->code, 200, 'issuer-clientcert: the SVID caller mints for its SPIFFE ID');
my $ct = body_json($c);
ok t_cmp($ct->{cnf}{'x5t#S256'} // '', x5t('spiffe'), 'issuer-clientcert: bound to the SVID');
my $other = send_req(url => $curl, tls => 'client', body => $cbody);
ok t_cmp($other->code . ' ' . (body_json($other)->{error} // ''), '403 access_denied',
         'issuer-clientcert: another certificate cannot mint for that sub');

my $murl = "https://localhost:$mtls/payments";
my $u1 = send_req(url => $murl, tls => 'spiffe', headers => [['Authorization' => "EKey " . ($ct->{token} // '')]]);
ok t_cmp($u1->code, 200, 'resource-mtls-spiffe: the certificate-bound token is accepted');
ok t_cmp(body_json($u1)->{HTTP_X_CALLER_SPIFFE_ID} // '', $spiffe, 'resource-mtls-spiffe: the application sees the SPIFFE ID');
my $u2 = send_req(url => $murl, tls => 'spiffe', headers => [['Authorization' => "EKey " . ($ct->{token} // '')]]);
ok t_cmp($u2->code . ' ' . (body_json($u2)->{error} // ''), '401 replay_detected',
         'resource-mtls-spiffe: the second use is a replay');

# Stop the second httpd by its pid.
my $pid = pid_of();
kill 'TERM', $pid if $pid =~ /^\d+$/;
my $gone = 0;
for (1 .. 100) { last if ($gone = !kill(0, $pid)); select(undef, undef, undef, 0.1) }
$started = 0 if $gone;
ok t_cmp($gone ? 'stopped' : 'running', 'stopped', 'examples httpd stopped');
