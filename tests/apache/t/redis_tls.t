# The Redis replay store over TLS (EKeyRedisTLS): the test makes its own CAs and certificates
# with openssl, runs its own TLS-only redis-servers and httpd instances on them, and checks
# that uses are counted in Redis over TLS, that every TLS failure (server certificate from
# another CA, wrong server name, a client certificate Redis requires but httpd lacks) is 503
# replay_store_unavailable with the backend untouched, that a required client certificate
# works, and that a Redis restarted under a running httpd serves again, without losing a
# request on the connections it closed.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(sleep);
use POSIX ();
use EKeyTest;
use EKeyInstance;

plan tests => 23 + 3 + 6;

my $dir = t_root() . '/logs/redistls';
-d $dir or mkdir $dir or die "$dir: $!";

# ---------------------------------------------------------------- certificates
sub run { my $out = `@_ 2>&1`; die "failed: @_\n$out" if $?; $out }
sub make_ca {
    my ($name) = @_;
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
        . " -keyout $dir/$name.key -out $dir/$name.pem -subj /CN=$name"
        . " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign");
}
sub make_cert {
    my ($name, $ca, $ext) = @_;
    open(my $fh, '>', "$dir/$name.ext") or die "$name.ext: $!";
    print $fh "$ext\n";
    close $fh;
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $dir/$name.key"
        . " -out $dir/$name.csr -subj /CN=$name");
    run("openssl x509 -req -in $dir/$name.csr -CA $dir/$ca.pem -CAkey $dir/$ca.key"
        . " -CAcreateserial -days 2 -out $dir/$name.crt -extfile $dir/$name.ext");
}
make_ca('ca');
make_ca('otherca');
my $srv_ext = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth";
make_cert('server', 'ca', $srv_ext);
make_cert('otherserver', 'otherca', $srv_ext);           # right names, another CA
make_cert('client', 'ca', "extendedKeyUsage=clientAuth");
make_cert('localhost', 'ca', "extendedKeyUsage=serverAuth");  # the name only as CN, no SAN

# ---------------------------------------------------------------- redis-servers
my @REDIS;
my $OWNER = $$;
sub cli {
    my ($port, $ca, @args) = @_;
    my $out = `redis-cli --tls --cacert $dir/$ca.pem --cert $dir/client.crt --key $dir/client.key -h 127.0.0.1 -p $port @args 2>&1`;
    chomp $out;
    return $out;
}
# A TLS-only redis-server (port 0) with the certificate $cert of CA $ca; 1 when it answers.
sub tls_redis {
    my ($port, $cert, $ca, $auth_clients) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>>', "$dir/redis-$port.log");
        open(STDERR, '>&', \*STDOUT);
        { exec('redis-server', '--bind', '127.0.0.1', '--port', '0', '--tls-port', $port,
               '--tls-cert-file', "$dir/$cert.crt", '--tls-key-file', "$dir/$cert.key",
               '--tls-ca-cert-file', "$dir/$ca.pem", '--tls-auth-clients', $auth_clients,
               '--maxmemory-policy', 'noeviction', '--save', '', '--appendonly', 'no',
               '--dir', $dir, '--daemonize', 'no') };
        POSIX::_exit(127);
    }
    push @REDIS, $pid;
    for (1 .. 100) {
        return $pid if cli($port, $ca, 'ping') =~ /^PONG$/;
        sleep 0.05;
    }
    die "TLS redis-server on $port did not answer: " . cli($port, $ca, 'ping') . "\n";
}
sub stop_redis {
    my ($pid) = @_;
    kill 'TERM', $pid;
    waitpid($pid, 0);
    @REDIS = grep { $_ != $pid } @REDIS;
}
# a copy: stop_redis shrinks @REDIS, and a loop over the array itself would skip one
END { if ($$ == $OWNER) { my $rc = $?; my @all = @REDIS; stop_redis($_) for @all; $? = $rc } }

my ($p_ok, $p_other, $p_mtls) = (free_port(), free_port(), free_port());
my $r_ok = tls_redis($p_ok, 'server', 'ca', 'no');
my $r_other = tls_redis($p_other, 'otherserver', 'otherca', 'no');
my $r_mtls = tls_redis($p_mtls, 'server', 'ca', 'yes');
my $p_cn = free_port();
my $r_cn = tls_redis($p_cn, 'localhost', 'ca', 'no');

# ---------------------------------------------------------------- helpers
sub store { my ($host, $port, $extra) = @_;
    "EKeyReplayStore redis\nEKeyRedisServer $host:$port\nEKeyRedisTimeout 500\n"
    . "EKeyRedisPrefix tls:\nEKeyRedisTLS On\nEKeyRedisTLSCA $dir/ca.pem\n" . ($extra // '') }
sub spend {                       # "status error" of one fresh limit-1 token, and its trace
    my ($inst) = @_;
    my $k = client_key();
    my ($t, $c) = token(key => $k);
    my ($st, $j) = instance_spend($inst, $t, $c, $k);
    return ("$st " . ($j->{error} // 'ok'), $t, $c, $k);
}
sub logged {
    my ($inst, $re) = @_;
    return (grep { /EKEY00102: replay_store_unavailable/ && $_ =~ $re } instance_log($inst, 'error_log'))
           ? 'logged' : 'missing';
}
# A refused configuration: 503 for a fresh token, the backend never reached, the reason logged.
sub refused_case {
    my ($name, $server, $re) = @_;
    my $inst = instance("redistls-$name", server => $server);
    ok t_cmp(instance_start($inst), 1, "$name: httpd started");
    my ($res) = spend($inst);
    my ($res2) = spend($inst);
    ok t_cmp("$res / $res2", '503 replay_store_unavailable / 503 replay_store_unavailable',
             "$name: 503 replay_store_unavailable, never 200");
    ok t_cmp(instance_hits($inst) . ' ' . logged($inst, $re), '0 logged',
             "$name: the backend is not reached, the TLS reason is logged");
    instance_stop($inst);
}

# ---------------------------------------------------------------- verified TLS
{
    my $inst = instance('redistls-ok', server => store('127.0.0.1', $p_ok));
    ok t_cmp(instance_start($inst), 1, 'TLS to Redis: httpd started');
    my ($res, $t, $c, $k) = spend($inst);
    ok t_cmp($res, '200 ok', 'TLS to Redis: a limit-1 token is accepted');
    my ($st, $j) = instance_spend($inst, $t, $c, $k);
    ok t_cmp("$st " . ($j->{error} // 'ok'), '401 replay_detected', 'TLS to Redis: its reuse is replay_detected');
    ok t_cmp(cli($p_ok, 'ca', 'get', "tls:t:$c->{trace}"), '1', 'the use is counted in Redis (read over TLS)');
    ok t_cmp(cli($p_ok, 'ca', 'pttl', "tls:t:$c->{trace}") > 0 ? 'expires' : 'no expiry', 'expires',
             'the counter key carries an expiry');
    ok t_cmp(instance_hits($inst), 1, 'TLS to Redis: the backend was reached once');

    stop_redis($r_ok);
    my ($down) = spend($inst);
    ok t_cmp($down, '503 replay_store_unavailable', 'TLS Redis stopped: 503');
    $r_ok = tls_redis($p_ok, 'server', 'ca', 'no');
    sleep 0.6;                                       # past the reconnect hold-off
    my ($back) = spend($inst);
    ok t_cmp($back, '200 ok', 'TLS Redis restarted: 200 without restarting httpd');

    # Frozen Redis: the TLS connection stays open but nothing answers (the read timeout).
    kill 'STOP', $r_ok;
    my $t0 = Time::HiRes::time();
    my ($frozen) = spend($inst);
    my $took = Time::HiRes::time() - $t0;
    kill 'CONT', $r_ok;
    ok t_cmp($frozen . ($took < 5 ? '' : " (took $took s)"), '503 replay_store_unavailable',
             'TLS Redis frozen: 503 after EKeyRedisTimeout, never 200');
    sleep 0.6;
    my ($thawed) = spend($inst);
    ok t_cmp($thawed, '200 ok', 'TLS Redis running again: 200');

    # every child holds an idle TLS connection, then Redis restarts under them: a closed
    # link is found before anything is sent on it (a command is sent once), so none is lost
    spend($inst) for 1 .. 12;
    stop_redis($r_ok);
    $r_ok = tls_redis($p_ok, 'server', 'ca', 'no');
    sleep 0.3;
    my %got;
    $got{ (spend($inst))[0] }++ for 1 .. 12;
    ok t_cmp(join(', ', map { "$_ x$got{$_}" } sort keys %got), '200 ok x12',
             'TLS Redis restarted under idle connections: no request lost');
    ok t_cmp(instance_stop($inst), 1, 'TLS to Redis: httpd stopped');
}

# ---------------------------------------------------------------- failures: fail closed
refused_case('wrongca', store('127.0.0.1', $p_other), qr/certificate verify failed/);
refused_case('wrongname', store('127.0.0.1', $p_ok, "EKeyRedisTLSServerName redis.example\n"),
             qr/certificate verify failed: [Hh]ostname mismatch/);
refused_case('nocert', store('localhost', $p_mtls), qr/TLS (read|write|handshake)/);
# RFC 6125: a name is matched against the certificate's DNS names, never its CN
refused_case('cnonly', store('localhost', $p_cn), qr/certificate verify failed: [Hh]ostname mismatch/);

# ---------------------------------------------------------------- trickling bytes
# EKeyRedisTimeout bounds the whole exchange over TLS too: OpenSSL reads a record with as
# many reads as its bytes arrive in, so a relay that passes Redis's bytes one per 50 ms
# keeps every read short and the reply (or handshake) long. Both are 503 within about the
# timeout (500 ms), never served.
{
    my $lport = free_port();
    my $switch = "$dir/trickle";
    unlink $switch;
    trickle_relay($lport, $p_ok, $switch);
    my $inst = instance('redistls-trickle', server => store('localhost', $lport));
    ok t_cmp(instance_start($inst), 1, 'TLS through a relay: httpd started');
    my ($fast) = spend($inst);
    ok t_cmp($fast, '200 ok', 'bytes at full speed: served');
    open(my $fh, '>', $switch) or die;
    close $fh;
    my $hits = instance_hits($inst);
    for my $what ('a reply on the open connection', 'the handshake of a new one') {
        my $t0 = Time::HiRes::time();
        my ($slow) = spend($inst);
        my $took = Time::HiRes::time() - $t0;
        ok t_cmp($slow . ($took < 2.5 ? '' : " (took $took s)"), '503 replay_store_unavailable',
                 "$what trickled: 503 within about EKeyRedisTimeout");
        sleep 0.6;                                   # past the reconnect hold-off
    }
    ok t_cmp(instance_hits($inst), $hits, 'trickled: the backend was not reached');
    unlink $switch;
    my ($again) = spend($inst);
    ok t_cmp($again, '200 ok', 'full speed again: served');
    instance_stop($inst);
}

# ---------------------------------------------------------------- client certificate
{
    my $inst = instance('redistls-mtls', server => store('localhost', $p_mtls,
        "EKeyRedisTLSCert $dir/client.crt\nEKeyRedisTLSKey $dir/client.key\n"));
    ok t_cmp(instance_start($inst), 1, 'client certificate: httpd started');
    my ($res) = spend($inst);
    ok t_cmp($res, '200 ok', 'Redis requires a client certificate, httpd presents it: 200');
    instance_stop($inst);
}
