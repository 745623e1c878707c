# The Redis replay store under contention (issue 4 acceptance): two httpd instances (the
# run's MPM, several children each) share the suite's redis-server. One token, 200 requests,
# each with its own valid DPoP proof for the instance it goes to, split evenly over both
# instances and released at once from 8 client processes: exactly `limit` are allowed in
# total, every other one is 401 replay_detected, the backends are reached exactly `limit`
# times. 20 rounds each for limit 1 and limit 3.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyInstance;

my $port = $ENV{EKEY_REDIS_PORT} or die "EKEY_REDIS_PORT is not set (run through tests/apache/run.sh)\n";
my ($N, $ROUNDS, $CLIENTS) = (200, 20, 8);
my @LIMITS = (1, 3);

plan tests => 2 + 7 * @LIMITS + 3;

# a generous timeout: on a loaded machine a slow round trip is a (correct) 503, not a finding
my $store = "EKeyReplayStore redis\nEKeyRedisServer 127.0.0.1:$port\nEKeyRedisPrefix ekeyconc:\nEKeyRedisTimeout 5000";
my @inst = map { instance("fleet$_", server => $store) } 1 .. 2;
ok t_cmp(instance_start($_), 1, "instance $_->{name} started") for @inst;

for my $limit (@LIMITS) {
    my $f = contention(instances => \@inst, limit => $limit, rounds => $ROUNDS, n => $N,
                       clients => $CLIENTS);
    my @other = @{ $f->{other} };
    ok t_cmp(join('; ', @{ $f->{count} }), '', "limit $limit: exactly $limit of $N allowed over two instances, $ROUNDS rounds");
    ok t_cmp(join('; ', @other[0 .. ($#other < 9 ? $#other : 9)]), '',
             "limit $limit: every other answer is 401 replay_detected");
    ok t_cmp(join('; ', @{ $f->{left} }), '', "limit $limit: uses left of the allowed ones count down to 0");
    ok t_cmp(join('; ', @{ $f->{hits} }), '', "limit $limit: the backends reached exactly $limit times per round");
    ok t_cmp(join('; ', @{ $f->{spread} }), '', "limit $limit: each instance's share answered by 2 or more children");
    ok t_cmp($f->{workers} >= 4 ? 'many' : $f->{workers}, 'many',
             "limit $limit: 4 or more worker processes/threads took part ($f->{workers})");
    ok t_cmp(join('; ', @{ $f->{audit} }), '', "limit $limit: one audit line per request, decisions match");
}

my @crash = grep { /exit signal|AddressSanitizer|runtime error:|Segmentation/ }
            map { instance_log($_, 'error_log') } @inst;
ok t_cmp(join('', @crash), '', 'no child crashed');
ok t_cmp(instance_stop($_), 1, "instance $_->{name} stopped") for @inst;
