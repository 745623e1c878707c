package EKeyInstance;
# Dedicated httpd instances, redis-servers and a concurrent sender for the replay-store
# tests. Apache::Test's own server has few children and one configuration; these tests start
# small servers of their own, with the run's MPM (EKEY_MPM) and several children, under
# t/logs/NAME/. Every instance and redis-server started here is stopped by pid at exit (END
# below), also when a test dies.
use strict;
use warnings;
use Exporter 'import';
use Carp qw(croak);
use IO::Socket::INET ();
use IO::Select ();
use POSIX ();
use JSON::PP ();
use Crypt::PK::ECC ();
use EKeyTest;

our @EXPORT = qw(free_port instance instance_start instance_stop instance_ctl instance_hits
                 instance_log instance_log_from instance_spend redis_start redis_stop relay_start
                 trickle_relay relayed_redis fire_concurrent raw_post contention);

# Apache::Test's own server has few children; these tests start small servers of their own,
# with the run's MPM (EKEY_MPM) and several children, under t/logs/NAME/. Every instance and
# redis-server started here is stopped by pid at exit (END below), also when a test dies.


my (@INSTANCES, @REDIS, @RELAYS);
my $OWNER = $$;                        # forked clients must not run the END cleanup

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  ReuseAddr => 1) or croak "free_port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub wait_port {
    my ($port, $up) = @_;
    for (1 .. 100) {
        my $ok = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1) ? 1 : 0;
        return 1 if $ok == $up;
        select(undef, undef, undef, 0.1);
    }
    return 0;
}

# instance(NAME, server => 'directives', location => 'directives in <Location /payments>',
# mpm => 'event'|'prefork', port => N): writes t/logs/NAME/httpd.conf and returns the
# instance (a hash: dir, port, origin, conf). /payments is the suite's counting backend CGI
# (its hits go to t/logs/NAME/logs/hits); the access log records child pid and thread id.
sub instance {
    my ($name, %o) = @_;
    my $root = t_root();
    my $dir = "$root/logs/$name";
    my $mods = '/usr/lib/apache2/modules';
    my $mpm = $o{mpm} // $ENV{EKEY_MPM} // 'event';
    my $port = $o{port} // free_port();
    for my $d ($dir, "$dir/cgi", "$dir/logs") { -d $d or mkdir $d or croak "$d: $!" }
    # backend.cgi counts in SCRIPT_FILENAME's ../logs/hits: a copy here counts here
    open(my $in, '<', "$root/cgi/backend.cgi") or croak "backend.cgi: $!";
    open(my $out, '>', "$dir/cgi/backend.cgi") or croak "$dir/cgi/backend.cgi: $!";
    print $out do { local $/; <$in> };
    close $out;
    chmod 0755, "$dir/cgi/backend.cgi";
    unlink "$dir/logs/hits";
    my $mpm_conf = $mpm eq 'prefork' ? <<"P" : <<"E";
LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so
LoadModule cgi_module $mods/mod_cgi.so
StartServers 6
MinSpareServers 6
MaxSpareServers 12
ServerLimit 16
MaxRequestWorkers 16
P
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule cgid_module $mods/mod_cgid.so
ScriptSock $dir/cgisock
StartServers 4
ServerLimit 4
ThreadLimit 8
ThreadsPerChild 8
MaxRequestWorkers 32
MinSpareThreads 8
MaxSpareThreads 32
E
    my $conf = "$dir/httpd.conf";
    open(my $fh, '>', $conf) or croak "$conf: $!";
    print $fh <<"CONF";
ServerRoot $dir
DefaultRuntimeDir $dir
ServerName localhost
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LogLevel info ekey:debug
Listen 127.0.0.1:$port
KeepAlive Off
$mpm_conf
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule alias_module $mods/mod_alias.so
LoadModule slotmem_shm_module $mods/mod_slotmem_shm.so
LoadModule unique_id_module $mods/mod_unique_id.so
LoadModule ekey_module $root/modules/mod_ekey.so
LogFormat "%P %{tid}P %>s %{UNIQUE_ID}e" ekeyinst
CustomLog $dir/access_log ekeyinst
EKeyAuditLog $dir/audit.log
@{[ $o{server} // '' ]}
Alias /payments $dir/cgi/backend.cgi
<Location /payments>
    SetHandler cgi-script
    Options +ExecCGI
    AuthType EKey
    EKeyIssuer https://issuer.example
    EKeyAudience https://api.example.com
    EKeyTrustedKey $root/keys/issuer.pub.pem
    EKeyPublicOrigin http://localhost:$port
    Require valid-user
@{[ $o{location} // '' ]}
</Location>
CONF
    close $fh;
    return { name => $name, dir => $dir, port => $port, conf => $conf,
             origin => "http://localhost:$port", url => "http://localhost:$port/payments" };
}

sub instance_pid {
    my ($i) = @_;
    open(my $fh, '<', "$i->{dir}/httpd.pid") or return;
    my $pid = <$fh> // '';
    chomp $pid;
    return $pid =~ /^\d+$/ ? $pid : undef;
}

# apache2 -k start|graceful|restart; waits until the port answers. 1 on success.
sub instance_ctl {
    my ($i, $what) = @_;
    my $old = instance_pid($i);
    system('/usr/sbin/apache2', '-f', $i->{conf}, '-k', $what) == 0 or return 0;
    push @INSTANCES, $i if $what eq 'start' && !grep { $_ == $i } @INSTANCES;
    # a restart signal is handled asynchronously: give the parent a moment to re-read
    select(undef, undef, undef, 1.0) if $what ne 'start';
    return 0 unless wait_port($i->{port}, 1);
    for (1 .. 100) {                   # the pid file comes after the listener
        my $pid = instance_pid($i);
        return $what eq 'start' || $pid == $old ? 1 : 0 if defined $pid;
        select(undef, undef, undef, 0.05);
    }
    return 0;
}
sub instance_start { instance_ctl($_[0], 'start') }

# A full stop: SIGTERM to the parent, wait until it and its port are gone. 1 on success.
sub instance_stop {
    my ($i) = @_;
    my $pid = instance_pid($i) or return 0;
    kill 'TERM', $pid;
    for (1 .. 200) {
        last unless kill 0, $pid;
        select(undef, undef, undef, 0.05);
    }
    @INSTANCES = grep { $_ != $i } @INSTANCES;
    return !kill(0, $pid) && wait_port($i->{port}, 0);
}

sub instance_hits {
    my ($i) = @_;
    open(my $fh, '<', "$i->{dir}/logs/hits") or return 0;
    my @l = <$fh>;
    return scalar @l;
}

# The lines of an instance's log (access_log, error_log, audit.log).
sub instance_log { @{ (instance_log_from(@_[0, 1], 0))[0] } }

# (\@lines from byte $from on, the new end offset).
sub instance_log_from {
    my ($i, $name, $from) = @_;
    open(my $fh, '<', "$i->{dir}/$name") or return ([], $from // 0);
    seek($fh, $from // 0, 0);
    my @l = <$fh>;
    return (\@l, tell($fh));
}

# One request of the token at the instance with a fresh proof: (status, JSON body).
sub instance_spend {
    my ($i, $t, $c, $k, %o) = @_;
    my $p = proof($k, 'POST', $i->{url}, $t, $c->{trace}, %{ $o{proof} || {} });
    my $r = send_req(url => $i->{url}, headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]]);
    return ($r->code, body_json($r), $r);
}

# redis-server on 127.0.0.1:$port, data in $dir (AOF, fsync always: a restarted server
# still knows every use). Returns its pid once it answers PING.
sub redis_start {
    my ($port, $dir) = @_;
    my $pid = fork // croak "fork: $!";
    if ($pid == 0) {
        open(STDOUT, '>>', "$dir/redis.log");
        open(STDERR, '>&', \*STDOUT);
        { exec('redis-server', '--bind', '127.0.0.1', '--port', $port, '--dir', $dir,
             '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
             '--maxmemory-policy', 'noeviction', '--daemonize', 'no') };
        POSIX::_exit(127);
    }
    push @REDIS, $pid;
    for (1 .. 100) {
        return $pid if `redis-cli -h 127.0.0.1 -p $port ping 2>/dev/null` =~ /PONG/;
        select(undef, undef, undef, 0.05);
    }
    croak "redis-server on $port did not answer";
}

# A TCP relay 127.0.0.1:$lport -> 127.0.0.1:$tport in a child process (stopped at exit), for
# faults between httpd and Redis. Each chunk read goes to $hook->($r, $from_client, $buf,
# $fh, $other), which forwards it (syswrite($other, $buf)) or not; $r->{drop}->($fh) closes
# one side, $r->{keep}{$fh} keeps a side open when its peer closes. Returns the pid.
sub relay_start {
    my ($lport, $tport, $hook) = @_;
    my $pid = fork // croak "fork: $!";
    if ($pid) {
        push @RELAYS, $pid;
        return $pid;
    }
    $SIG{PIPE} = 'IGNORE';
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $lport, Listen => 32,
                                    ReuseAddr => 1) or POSIX::_exit(1);
    my $sel = IO::Select->new($srv);
    my (%peer, %client);
    my $r = { keep => {}, peer => \%peer };
    $r->{drop} = sub { my $fh = shift; $sel->remove($fh); delete $peer{$fh}; delete $client{$fh}; close $fh };
    while (1) {
        for my $fh ($sel->can_read) {
            if ($fh == $srv) {
                my $c = $srv->accept or next;
                my $t = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tport)
                    or do { close $c; next };
                @peer{$c, $t} = ($t, $c);
                $client{$c} = 1;
                $sel->add($c, $t);
                next;
            }
            my $n = sysread($fh, my $buf, 65536);
            my $other = $peer{$fh};
            if (!$n) {
                $r->{drop}->($fh);
                $r->{drop}->($other) if $other && !$r->{keep}{$other};
                next;
            }
            $hook->($r, $client{$fh} ? 1 : 0, $buf, $fh, $other);
        }
    }
}

# A relay on lport in front of tport that passes the server's bytes one per 50 ms while the
# file $switch exists (a Redis, or a path, that trickles), and everything else at once.
sub trickle_relay {
    my ($lport, $tport, $switch) = @_;
    return relay_start($lport, $tport, sub {
        my ($r, $from_client, $buf, $fh, $other) = @_;
        return unless $other;
        if (!$from_client && -e $switch) {
            for my $ch (split //, $buf) { syswrite($other, $ch) or last; select(undef, undef, undef, 0.05) }
        }
        else {
            syswrite($other, $buf);
        }
    });
}

# A redis-server of the test's own under t/logs/NAME-redis and a free port for a relay in
# front of it: ($redis_port, $relay_port, $dir, $redis_pid).
sub relayed_redis {
    my ($name) = @_;
    my ($rport, $lport) = (free_port(), free_port());
    my $dir = t_root() . "/logs/$name-redis";
    mkdir $dir;
    return ($rport, $lport, $dir, redis_start($rport, $dir));
}

sub redis_stop {
    my ($pid) = @_;
    kill 'TERM', $pid;
    waitpid($pid, 0);
    @REDIS = grep { $_ != $pid } @REDIS;
    return 1;
}

END {
    if ($$ == $OWNER) {
        my $rc = $?;
        instance_stop($_) for reverse @INSTANCES;
        for my $pid (@RELAYS) { kill 'TERM', $pid; waitpid($pid, 0) }
        my @all = @REDIS;               # a copy: redis_stop shrinks @REDIS
        redis_stop($_) for @all;
        $? = $rc;
    }
}

# The bytes of one POST with its E-Key and proof (HTTP/1.1, Connection: close).
sub raw_post {
    my ($url, $t, $p) = @_;
    my ($hp, $path) = $url =~ m{^https?://([^/]+)(/.*)$} or croak "raw_post: $url";
    my $body = '{"amount":1000}';
    return "POST $path HTTP/1.1\r\nHost: $hp\r\nAuthorization: EKey $t\r\nDPoP: $p\r\n"
         . "Content-Type: application/json\r\nContent-Length: " . length($body)
         . "\r\nConnection: close\r\n\r\n$body";
}

sub dechunk {
    my ($b) = @_;
    my $out = '';
    while ($b =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
        my $n = hex $1;
        last if $n == 0;
        $out .= substr($b, 0, $n, '');
        $b =~ s/^\r\n//;
    }
    return $out;
}

# fire_concurrent($clients, $make, $n): forks $clients client processes; client $c prepares
# the requests $i (0..$n-1, $i % $clients == $c) by calling $make->($i) -> [port, bytes]
# (proofs are signed there, in parallel), connects all its sockets, and waits at a barrier;
# the parent releases every client at once and each writes its requests back to back, then
# reads the answers. Returns [[status, error code, uses left], ...] indexed by $i.
sub fire_concurrent {
    my ($clients, $make, $n) = @_;
    pipe(my $go_r, my $go_w) or croak "pipe: $!";
    my (@kids, @res);
    for my $c (0 .. $clients - 1) {
        pipe(my $rd, my $wr) or croak "pipe: $!";
        my $pid = fork // croak "fork: $!";
        if ($pid == 0) {
            close $go_w;
            close $rd;
            my $ok = eval {
                my @mine = grep { $_ % $clients == $c } 0 .. $n - 1;
                my @req = map { [$_, @{ $make->($_) }] } @mine;
                my @socks = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $_->[1],
                                                        Timeout => 30) or die "connect: $!\n" } @req;
                syswrite($wr, "R\n");                    # ready
                sysread($go_r, my $x, 1);               # the barrier: EOF when released
                for my $k (0 .. $#req) {
                    my $b = $req[$k][2];
                    while (length $b) { my $w = syswrite($socks[$k], $b) // die "write: $!\n"; substr($b, 0, $w) = '' }
                    shutdown($socks[$k], 1);    # EOF at once for httpd's lingering close
                }
                for my $k (0 .. $#req) {
                    my $sel = IO::Select->new($socks[$k]);
                    my $ans = '';
                    while ($sel->can_read(60)) { my $g = sysread($socks[$k], $ans, 65536, length $ans); last unless $g }
                    close $socks[$k];
                    my $st = $ans =~ m{^HTTP/\S+ (\d{3})} ? $1 : 0;
                    my ($head, $body) = split /\r\n\r\n/, $ans, 2;
                    $body = dechunk($body // '') if ($head // '') =~ /^Transfer-Encoding:\s*chunked/mi;
                    my $j = eval { JSON::PP->new->decode($body // '') } || {};
                    printf $wr "%d %d %s %s\n", $req[$k][0], $st, $j->{error} // '-',
                           $j->{EKEY_USES_LEFT} // '-';
                }
                1;
            };
            print $wr "E $@" unless $ok;
            close $wr;
            POSIX::_exit($ok ? 0 : 1);
        }
        close $wr;
        push @kids, [$pid, $rd];
    }
    close $go_r;
    for my $k (@kids) { my $l = readline($k->[1]); croak "client failed: " . ($l // 'EOF') unless ($l // '') eq "R\n" }
    close $go_w;                                         # release every client at once
    for my $k (@kids) {
        my $fh = $k->[1];
        while (my $l = <$fh>) {
            croak "client: $l" if $l =~ /^E /;
            my ($i, @v) = split ' ', $l;
            $res[$i] = \@v;
        }
        waitpid($k->[0], 0);
    }
    return \@res;
}

# contention(instances => [..], limit => L, rounds => R, n => N, clients => C): R rounds of
# one fresh limit-L token sent N times at once (fire_concurrent), request i to instance
# i % @instances with a proof for that instance. Returns a hash of findings, each a list of
# "round r: ..." texts that must stay empty: count (allowed != L), other (an answer that is
# neither 200 nor 401 replay_detected), left (uses left of the allowed ones not L-1..0), hits
# (backend hits != L), spread (an instance's share answered by fewer than 2 children), audit
# (audit lines of the token not N JSON lines with L allowed, N-L replay_blocked and N
# distinct request ids); and workers, the number of distinct child pid/thread ids seen.
sub contention {
    my (%o) = @_;
    my @in = @{ $o{instances} };
    my ($limit, $n) = ($o{limit}, $o{n});
    my (%f, %workers, %acc, %aud);
    $f{$_} = [] for qw(count other left hits spread audit);
    for my $i (@in) {
        (undef, $acc{$i}) = instance_log_from($i, 'access_log', 0);
        (undef, $aud{$i}) = instance_log_from($i, 'audit.log', 0);
    }
    for my $r (1 .. $o{rounds}) {
        my $k = client_key();
        my ($t, $c) = token(key => $k, claims => { cap => { action => 'POST:/payments', limit => $limit } });
        my $der = $k->export_key_der('private');
        my $ck;                        # the key, re-imported once per client process
        my $h0 = 0;
        $h0 += instance_hits($_) for @in;
        my $res = fire_concurrent($o{clients}, sub {
            my $i = $in[$_[0] % @in];
            $ck //= Crypt::PK::ECC->new(\$der);
            return [$i->{port}, raw_post($i->{url}, $t, proof($ck, 'POST', $i->{url}, $t, $c->{trace}))];
        }, $n);
        my @ok = grep { ($res->[$_][0] // 0) == 200 } 0 .. $n - 1;
        push @{ $f{count} }, "round $r: " . @ok if @ok != $limit;
        push @{ $f{other} }, map { "round $r #$_: " . join(' ', @{ $res->[$_] // ['none'] }) }
            grep { my $x = $res->[$_] // [0, '-'];
                   $x->[0] != 200 && !($x->[0] == 401 && $x->[1] eq 'replay_detected') } 0 .. $n - 1;
        my $left = join ',', sort { $b cmp $a } map { $res->[$_][2] } @ok;
        push @{ $f{left} }, "round $r: $left" if $left ne join(',', reverse 0 .. $limit - 1);
        my $h = -$h0;
        $h += instance_hits($_) for @in;
        push @{ $f{hits} }, "round $r: $h" if $h != $limit;

        # httpd logs after answering: wait for each instance's share of lines
        my (%lines, $want);
        for my $wait (1 .. 100) {
            my $short = 0;
            for my $x (0 .. $#in) {
                my $i = $in[$x];
                $want = grep { $_ % @in == $x } 0 .. $n - 1;
                ($lines{$i}{acc}) = instance_log_from($i, 'access_log', $acc{$i});
                ($lines{$i}{aud}) = instance_log_from($i, 'audit.log', $aud{$i});
                $short ||= @{ $lines{$i}{acc} } < $want || @{ $lines{$i}{aud} } < $want;
            }
            last unless $short;
            select(undef, undef, undef, 0.05);
        }
        my (%dec, %ids, $bad, $all);
        for my $x (0 .. $#in) {
            my $i = $in[$x];
            (undef, $acc{$i}) = instance_log_from($i, 'access_log', $acc{$i});
            (undef, $aud{$i}) = instance_log_from($i, 'audit.log', $aud{$i});
            my %pids;
            for (@{ $lines{$i}{acc} }) { my ($pid, $tid) = split; $pids{$pid}++; $workers{"$x/$pid/$tid"}++ }
            push @{ $f{spread} }, "round $r $i->{name}: " . keys(%pids) . ' children' if keys(%pids) < 2;
            for (@{ $lines{$i}{aud} }) {
                $all++;
                my $j = eval { JSON::PP->new->decode($_) };
                if (!$j || ($j->{trace} // '') ne $c->{trace}) { $bad++; next }
                $dec{ $j->{decision} }++;
                $ids{ $j->{request_id} // '' }++;
            }
        }
        my $got = join ' ', map { "$_=" . ($dec{$_} // 0) } qw(allowed replay_blocked);
        push @{ $f{audit} }, "round $r: $got lines=$all bad=" . ($bad // 0) . ' ids=' . keys(%ids)
            if $got ne "allowed=$limit replay_blocked=" . ($n - $limit) || $bad || $all != $n
               || keys(%ids) != $n;
    }
    $f{workers} = scalar keys %workers;
    return \%f;
}
1;
