# The shared-memory replay table on its own small httpd (EKeyReplayCapacity is global): a
# full table fails closed with 503 and never evicts a live entry, and uses survive a graceful
# restart.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use IO::Socket::INET ();
use EKeyTest;

my $root = t_root();
my $dir = "$root/logs/store";
mkdir $dir;
my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0, ReuseAddr => 1)
    or die "port: $!";
my $port = $s->sockport;
close $s;
my $origin = "http://localhost:$port";
my $mods = '/usr/lib/apache2/modules';

open(my $fh, '>', "$dir/httpd.conf") or die "$dir/httpd.conf: $!";
print $fh <<"CONF";
ServerRoot $dir
DefaultRuntimeDir $dir
ServerName localhost
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LogLevel info ekey:debug
Listen 127.0.0.1:$port
LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule alias_module $mods/mod_alias.so
LoadModule cgi_module $mods/mod_cgi.so
LoadModule slotmem_shm_module $mods/mod_slotmem_shm.so
LoadModule ekey_module $root/modules/mod_ekey.so
StartServers 2
EKeyReplayCapacity 8
Alias /payments $root/cgi/backend.cgi
<Location /payments>
    SetHandler cgi-script
    Options +ExecCGI
    AuthType EKey
    EKeyIssuer https://issuer.example
    EKeyAudience https://api.example.com
    EKeyTrustedKey $root/keys/issuer.pub.pem
    EKeyPublicOrigin $origin
    Require valid-user
</Location>
CONF
close $fh;

my @httpd = ('/usr/sbin/apache2', '-f', "$dir/httpd.conf");
sub wait_up {
    for (1 .. 50) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 1);
        select(undef, undef, undef, 0.1);
    }
    return 0;
}
sub spend {
    my ($t, $c, $k) = @_;
    my $p = proof($k, 'POST', "$origin/payments", $t, $c->{trace});
    return send_req(url => "$origin/payments", headers => [['Authorization' => "EKey $t"], ['DPoP' => $p]]);
}

plan tests => 9;

system(@httpd, '-k', 'start');
ok t_cmp(wait_up(), 1, 'small httpd started');

# Uses survive a graceful restart.
my $k0 = client_key();
my ($t0, $c0) = token(key => $k0, claims => { cap => { action => 'POST:/payments', limit => 2 } });
my $first = spend($t0, $c0, $k0)->code;
system(@httpd, '-k', 'graceful');
select(undef, undef, undef, 1.5);
wait_up();
my $second = spend($t0, $c0, $k0)->code;
my $third = spend($t0, $c0, $k0);
ok t_cmp("$first $second", '200 200', 'limit 2: two uses across a graceful restart');
ok t_cmp($third->code . ' ' . (body_json($third)->{error} // ''), '401 replay_detected',
         'limit 2: the third use after the restart is refused');

# Fill the table with live limit-1 tokens until it refuses.
my (@used, %codes, $full);
for my $i (1 .. 40) {
    my $k = client_key();
    my ($t, $c) = token(key => $k);
    my $r = spend($t, $c, $k);
    $codes{ $r->code }++;
    if ($r->code == 503) { $full = $r; last }
    push @used, [$t, $c, $k] if $r->code == 200;
}
ok t_cmp(defined $full ? 'refused' : 'never full', 'refused', 'a full table refuses (503)');
ok t_cmp(scalar(@used) <= 8 ? 'within' : scalar(@used), 'within', 'no more uses than the capacity');
ok t_cmp($full ? body_json($full)->{error} // '' : '', 'replay_store_unavailable', '503 error code');
ok t_cmp($full ? $full->header('Retry-After') // '' : '', '1', '503 Retry-After');

# No live entry was evicted to make room: every used token is still refused.
my @again = map { spend(@$_)->code } @used;
ok t_cmp(join(',', grep { $_ == 200 } @again), '', 'used tokens stay used when the table is full');

my $pid = do { local (@ARGV, $/) = ("$dir/httpd.pid"); <> } // '';
chomp $pid;
kill 'TERM', $pid if $pid =~ /^\d+$/;
my $gone = 0;
for (1 .. 100) { last if ($gone = !kill(0, $pid)); select(undef, undef, undef, 0.1) }
ok t_cmp($gone ? 'stopped' : 'running', 'stopped', 'small httpd stopped');
