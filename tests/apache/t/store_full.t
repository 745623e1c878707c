# A full shm table (issue 4; store.t covers 503, its code, Retry-After and no eviction): the
# refusal is logged at error level with its reason and counted (ekey_replay_table_full_total
# of ekey-metrics), the audit line says replay_store_unavailable, and once the entries
# expire new tokens succeed again. Capacity 8, short lifetimes (EKeyClockSkew 0,
# EKeyProofMaxAge 2, tokens of 3 s): each use takes two entries (trace and proof jti).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use Time::HiRes qw(time sleep);
use EKeyTest;
use EKeyInstance;

plan tests => 9;

my $mods = '/usr/lib/apache2/modules';
my $inst = instance('storefull', location => "EKeyClockSkew 0\nEKeyProofMaxAge 2", server => <<"S");
EKeyReplayCapacity 8
LoadModule authz_host_module $mods/mod_authz_host.so
<Location /ekey-metrics>
    SetHandler ekey-metrics
    Require local
</Location>
S
ok t_cmp(instance_start($inst), 1, 'capacity-8 server started');

sub full_total {
    my $r = LWP::UserAgent->new(timeout => 10)->get("$inst->{origin}/ekey-metrics");
    return $r->code == 200 && $r->decoded_content =~ /^ekey_replay_table_full_total (\d+)$/m ? $1 : 'none';
}
sub spend_new {
    my $k = client_key();
    my $now = int time;
    my ($t, $c) = token(key => $k, now => $now, claims => { exp => $now + 3 });
    my ($st, $j) = instance_spend($inst, $t, $c, $k);
    return "$st " . ($j->{error} // 'ok');
}

my $full0 = full_total();
my @fill;
for (1 .. 10) { push @fill, spend_new(); last if $fill[-1] =~ /^503/ }
my $ok = grep { $_ eq '200 ok' } @fill;
ok t_cmp($fill[-1] . ($ok >= 1 && $ok <= 4 ? '' : " after $ok"), '503 replay_store_unavailable',
         "live tokens fill the table ($ok uses of 2 entries), the next one gets 503");
my $second = spend_new();
ok t_cmp($second, '503 replay_store_unavailable', 'another new token: 503 again');
ok t_cmp(full_total(), $full0 eq 'none' ? 'counter' : $full0 + 2, 'ekey_replay_table_full_total counted both');

my @log = grep { /\[ekey:error\].*EKEY00102: replay_store_unavailable EKEY_E_STORE_FULL \(rtable\.consume: replay table full/ }
          instance_log($inst, 'error_log');
ok t_cmp(scalar @log, 2, 'each full refusal is one error-level log line naming the full table');
ok t_cmp(join('', grep { /ey[J][A-Za-z0-9_-]{10,}\./ } @log), '', 'the log lines hold no token or proof');
sleep 0.3;
my @audit = grep { /"code":"replay_store_unavailable"/ } instance_log($inst, 'audit.log');
ok t_cmp(scalar(grep { /"decision":"denied"/ && /"trace":"/ && /"sub":"agent-123"/ } @audit), 2,
         'audit: two denied lines with sub and trace');

# Every entry lives until exp + skew (trace) or iat + EKeyProofMaxAge + skew (jti): 3 s.
sleep 4.2;
my @again = map { spend_new() } 1 .. 3;
ok t_cmp("@again", '200 ok 200 ok 200 ok', 'after the entries expired new tokens succeed again');
ok t_cmp(instance_stop($inst), 1, 'stopped');
