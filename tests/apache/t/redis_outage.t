# Redis going away and coming back under a running httpd (issue 4 acceptance; redis.t covers
# a Redis that never answered): the test runs its own redis-server (AOF, so a restarted Redis
# still knows the uses) and an httpd instance with several children on it. Redis stopped:
# every request is 503 replay_store_unavailable, none is 200, no backend hit. Redis started
# again on the same port: requests succeed without touching httpd, and a token used before
# the outage is still refused. Redis frozen (SIGSTOP): 503 after EKeyRedisTimeout, then
# success once it runs again.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(time sleep);
use EKeyTest;
use EKeyInstance;

my $M = 12;                                  # requests per phase
plan tests => 12;

my $rport = free_port();
my $rdir = t_root() . '/logs/outage-redis';
mkdir $rdir;
my $rpid = redis_start($rport, $rdir);
my $inst = instance('outage', server => "EKeyReplayStore redis\nEKeyRedisServer 127.0.0.1:$rport\n"
                                       . "EKeyRedisTimeout 300\nEKeyRedisPrefix outage:");
ok t_cmp(instance_start($inst), 1, 'httpd on our redis-server started');

# $M fresh limit-1 tokens, one request each: "status code" per request.
sub phase {
    my @out;
    for (1 .. $M) {
        my $k = client_key();
        my ($t, $c) = token(key => $k);
        my ($st, $j, $r) = instance_spend($inst, $t, $c, $k);
        push @out, "$st " . ($j->{error} // 'ok') . ($st == 503 ? ' retry=' . ($r->header('Retry-After') // '') : '');
    }
    return @out;
}
sub tally { my %n; $n{$_}++ for @_; join ', ', map { "$_ x$n{$_}" } sort keys %n }

my $k = client_key();
my ($tu, $cu) = token(key => $k, claims => { exp => int(time) + 120 });
my @up = phase();
my ($ust) = instance_spend($inst, $tu, $cu, $k);
ok t_cmp(tally(@up) . " / $ust", "200 ok x$M / 200", 'redis up: requests succeed (connections pooled in the children)');

redis_stop($rpid);
my $h0 = instance_hits($inst);
my @down = phase();
ok t_cmp(tally(@down), "503 replay_store_unavailable retry=1 x$M", 'redis stopped: every request 503, none 200');
ok t_cmp(code_of(instance_spend($inst, $tu, $cu, $k)), '503 replay_store_unavailable', 'redis stopped: a used token is 503, not 200');
ok t_cmp(instance_hits($inst), $h0, 'redis stopped: the backend is never reached');
ok t_cmp(scalar(grep { /\[ekey:error\].*EKEY00102: replay_store_unavailable EKEY_E_STORE_UNAVAILABLE \(redis\./ }
                instance_log($inst, 'error_log')) >= $M ? 'logged' : 'missing', 'logged',
         'redis stopped: each refusal is logged at error level');

$rpid = redis_start($rport, $rdir);
sleep 0.5;                                   # past the reconnect hold-off (EKeyRedisTimeout)
sub parent { open(my $fh, '<', "$inst->{dir}/httpd.pid") or return ''; my $p = <$fh> // ''; chomp $p; $p }
my $pid0 = parent();
my @back = phase();
ok t_cmp(tally(@back), "200 ok x$M", 'redis back: requests succeed without restarting httpd');
ok t_cmp(code_of(instance_spend($inst, $tu, $cu, $k)), '401 replay_detected', 'redis back: the token used before the outage stays used');
ok t_cmp(parent() . (kill(0, $pid0) ? ' alive' : ''), "$pid0 alive", 'redis back: the same httpd parent, never restarted');

# Frozen Redis: the connection stays open but nothing answers.
kill 'STOP', $rpid;
my $t0 = time;
my @frozen = phase();
my $took = time - $t0;
kill 'CONT', $rpid;
ok t_cmp(tally(@frozen) . ($took < $M * 2 ? '' : " (took $took s)"), "503 replay_store_unavailable retry=1 x$M",
         'redis frozen: 503 after the timeout, never 200');
sleep 0.5;
ok t_cmp(tally(phase()), "200 ok x$M", 'redis running again: requests succeed');

redis_stop($rpid);
ok t_cmp(instance_stop($inst), 1, 'httpd stopped');

sub code_of { my ($st, $j) = @_; return "$st " . ($j->{error} // 'ok') }
