# The shared-memory replay table on its own small httpd (EKeyReplayCapacity is global): a
# full table fails closed with 503 and never evicts a live entry, and uses survive a graceful
# restart.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyInstance;

my $i = instance('store', mpm => 'prefork', server => 'EKeyReplayCapacity 8');
sub spend { my ($t, $c, $k) = @_; return (instance_spend($i, $t, $c, $k))[2] }

plan tests => 9;

ok t_cmp(instance_start($i), 1, 'small httpd started');

# Uses survive a graceful restart.
my $k0 = client_key();
my ($t0, $c0) = token(key => $k0, claims => { cap => { action => 'POST:/payments', limit => 2 } });
my $first = spend($t0, $c0, $k0)->code;
instance_ctl($i, 'graceful');
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

ok t_cmp(instance_stop($i) ? 'stopped' : 'running', 'stopped', 'small httpd stopped');
