# Metrics on small httpds of their own (metrics.t covers the suite's server): a replay table
# of 8 entries filled until it refuses, with the full events, occupancy and decisions
# counted exactly; the counters survive a graceful restart; and mod_ekey_issuer alone serves
# ekey-metrics with the tokens it minted. Each httpd is stopped by its pid at the end.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use IO::Socket::INET ();
use JSON::PP ();
use LWP::UserAgent ();
use EKeyTest;
use EKeyInstance;

my $root = t_root();
my $mods = '/usr/lib/apache2/modules';
my @started;

# Starts an httpd from $body (module lines and sections) in logs/NAME; returns (origin, @cmd).
sub small_httpd {
    my ($name, $body) = @_;
    my $dir = "$root/logs/$name";
    mkdir $dir;
    my $port = free_port();
    $body =~ s/\bPORT\b/$port/g;
    open(my $fh, '>', "$dir/httpd.conf") or die "$dir/httpd.conf: $!";
    print $fh <<"CONF";
ServerRoot $dir
DefaultRuntimeDir $dir
ServerName localhost
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LogLevel info
Listen 127.0.0.1:$port
LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_host_module $mods/mod_authz_host.so
LoadModule authz_user_module $mods/mod_authz_user.so
StartServers 2
<Location /ekey-metrics>
    SetHandler ekey-metrics
    Require local
</Location>
$body
CONF
    close $fh;
    my @cmd = ('/usr/sbin/apache2', '-f', "$dir/httpd.conf");
    system(@cmd, '-k', 'start');
    push @started, "$dir/httpd.pid";
    return ("http://localhost:$port", @cmd);
}

sub up {
    my ($origin) = @_;
    my ($port) = $origin =~ /:(\d+)$/;
    for (1 .. 50) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        select(undef, undef, undef, 0.1);
    }
    return 0;
}

my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
sub scrape {
    my ($origin) = @_;
    my $r = $ua->get("$origin/ekey-metrics");
    my %v = ($r->code == 200 ? $r->decoded_content : '') =~ /^(\w+(?:\{[^}]*\})?) (\S+)$/mg;
    return \%v;
}
# log_transaction counts just after the answer: wait (bounded) until $key reaches $n.
sub scrape_until {
    my ($origin, $key, $n) = @_;
    my $v;
    for (1 .. 40) {
        $v = scrape($origin);
        last if ($v->{$key} // -1) >= $n;
        select(undef, undef, undef, 0.1);
    }
    return $v;
}

my $ALLOWED = 'ekey_decisions_total{decision="allowed",code="none",reason="EKEY_OK"}';
my $FULL = 'ekey_decisions_total{decision="denied",code="replay_store_unavailable",reason="EKEY_E_STORE_FULL"}';

plan tests => 15;

# --- a replay table of 8 entries, filled until it refuses -------------------------------
my $inst = instance('metrics-small', server => <<"CONF");
LoadModule authz_host_module $mods/mod_authz_host.so
EKeyReplayCapacity 8
<Location /ekey-metrics>
    SetHandler ekey-metrics
    Require local
</Location>
CONF
my $origin = $inst->{origin};
ok t_cmp(instance_start($inst), 1, 'small httpd (mod_ekey, 8 entries) started');
my $v0 = scrape($origin);
ok t_cmp(join(' ', map { $v0->{$_} // 'missing' } qw(ekey_replay_table_capacity
         ekey_replay_table_live ekey_replay_table_full_total), $ALLOWED),
         '8 0 0 0', 'fresh: capacity 8, nothing live, no full event, no decision');

my %n = (200 => 0, 503 => 0);
for (1 .. 12) {
    my ($t, $p) = mint_pair(origin => $origin);
    my $code = send_req(url => "$origin/payments",
                        headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]])->code;
    $n{$code}++;
    last if $n{503} == 3;
}
ok t_cmp("$n{503} " . ($n{200} >= 1 && $n{200} <= 8 ? 'some allowed' : $n{200}),
         '3 some allowed', 'the table filled: a few allowed, then 503s');
my $v1 = scrape_until($origin, $FULL, 3);
ok t_cmp($v1->{$ALLOWED}, $n{200}, 'allowed counted exactly');
ok t_cmp($v1->{$FULL}, 3, 'store-full refusals counted exactly');
ok t_cmp($v1->{ekey_replay_table_full_total}, 3, 'full events counted exactly');
ok t_cmp($v1->{ekey_replay_table_live} > 8 - 2 && $v1->{ekey_replay_table_live} <= 8 ? 'full' : $v1->{ekey_replay_table_live},
         'full', 'occupancy: the table is (nearly) full');

# --- counters survive a graceful restart ---------------------------------------------
instance_ctl($inst, 'graceful');
my $v2 = scrape($origin);
ok t_cmp(join(' ', map { $v2->{$_} // 'missing' } $ALLOWED, $FULL, 'ekey_replay_table_full_total',
                   'ekey_metrics_start_time_seconds'),
         join(' ', map { $v1->{$_} } $ALLOWED, $FULL, 'ekey_replay_table_full_total',
                   'ekey_metrics_start_time_seconds'),
         'graceful restart: counters and start time kept');
{
    my ($t, $p) = mint_pair(origin => $origin);
    send_req(url => "$origin/payments", headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]]);
    my $v3 = scrape_until($origin, $FULL, 4);
    ok t_cmp($v3->{$FULL}, 4, 'after the restart: new children count into the same counters');
}

# --- mod_ekey_issuer alone serves ekey-metrics ----------------------------------------
my ($iorigin) = small_httpd('metrics-issuer', <<"CONF");
LoadModule ekey_issuer_module $root/modules/mod_ekey_issuer.so
<Location /token>
    SetHandler ekey-issuer
    EKeyIssuerName https://issuer.example
    EKeyIssuerSigningKey $root/keys/issuer.pem
    EKeyIssuerAudience https://api.example.com
    EKeyIssuerCapability POST:/payments
    EKeyIssuerAnonymous On
    EKeyIssuerRequireProof Off
    Require local
</Location>
CONF
ok t_cmp(up($iorigin), 1, 'small httpd (issuer only) started');
my $k = client_key();
my $body = sub { JSON::PP->new->encode({ sub => 'agent-123', aud => 'https://api.example.com',
    bind => 'DPoP', cap => { action => $_[0] }, jwk => pub_jwk($k) }) };
my @codes = map { send_req(url => "$iorigin/token", body => $body->($_))->code }
            ('POST:/payments', 'POST:/payments', 'GET:/other');
ok t_cmp("@codes", '200 200 403', 'issuer: two minted, one refused');
my $vi = scrape_until($iorigin, 'ekey_issuer_refusals_total{code="access_denied"}', 1);
ok t_cmp($vi->{ekey_issuer_tokens_minted_total}, 2, 'issuer alone: tokens minted counted');
ok t_cmp($vi->{'ekey_issuer_refusals_total{code="access_denied"}'}, 1, 'issuer alone: refusal counted');
ok t_cmp(exists $vi->{ekey_replay_table_capacity} ? 'table' : 'no table', 'no table',
         'issuer alone: no replay table to show');

# --- stop both by pid (also when a step above died) -------------------------------------
sub stop_all {
    my @alive;
    while (my $f = shift @started) {
        my $pid = do { local (@ARGV, $/) = ($f); <> } // '';
        chomp $pid;
        next unless $pid =~ /^\d+$/;
        kill 'TERM', $pid;
        my $gone = 0;
        for (1 .. 100) { last if ($gone = !kill(0, $pid)); select(undef, undef, undef, 0.1) }
        push @alive, $f unless $gone;
    }
    return "@alive";
}
END { stop_all() }
ok t_cmp((instance_stop($inst) ? '' : 'metrics-small ') . stop_all(), '', 'small httpds stopped');
