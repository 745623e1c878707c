# The shm replay table under contention (issue 4 acceptance): one token, 200 requests, each
# with its own valid DPoP proof, released at once from 8 client processes against a server
# with several children (the run's MPM; event also has several threads per child). Exactly
# `limit` requests are allowed, every other one is 401 replay_detected, the backend is
# reached exactly `limit` times, and the audit log has one JSON line per request. 20 rounds
# each for limit 1 and limit 3.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyInstance;

my ($N, $ROUNDS, $CLIENTS) = (200, 20, 8);
my @LIMITS = (1, 3);

plan tests => 1 + 7 * @LIMITS + 2;

my $inst = instance('concurrency');
ok t_cmp(instance_start($inst), 1, 'server with several children started');

for my $limit (@LIMITS) {
    my $f = contention(instances => [$inst], limit => $limit, rounds => $ROUNDS, n => $N,
                       clients => $CLIENTS);
    my @other = @{ $f->{other} };
    ok t_cmp(join('; ', @{ $f->{count} }), '', "limit $limit: exactly $limit of $N allowed, $ROUNDS rounds");
    ok t_cmp(join('; ', @other[0 .. ($#other < 9 ? $#other : 9)]), '',
             "limit $limit: every other answer is 401 replay_detected");
    ok t_cmp(join('; ', @{ $f->{left} }), '', "limit $limit: uses left of the allowed ones count down to 0");
    ok t_cmp(join('; ', @{ $f->{hits} }), '', "limit $limit: the backend reached exactly $limit times per round");
    ok t_cmp(join('; ', @{ $f->{spread} }), '', "limit $limit: every round answered by 2 or more children");
    ok t_cmp($f->{workers} >= 4 ? 'many' : $f->{workers}, 'many',
             "limit $limit: 4 or more worker processes/threads took part ($f->{workers})");
    ok t_cmp(join('; ', @{ $f->{audit} }), '', "limit $limit: one audit line per request, decisions match");
}

my @crash = grep { /exit signal|AddressSanitizer|runtime error:|Segmentation|EKEY0030[28]/ }
            instance_log($inst, 'error_log');
ok t_cmp(join('', @crash), '', 'no child crashed, no table or mutex error');
ok t_cmp(instance_stop($inst), 1, 'server stopped');
