# EKeyRedisTimeout bounds the whole answer, not each read (EKEY_SPEC 12.2: a store slow
# beyond its timeout refuses). A relay in front of our own redis-server passes commands at
# once but Redis's replies one byte every 50 ms once switched to trickling: every read
# returns within the timeout, the whole reply does not. Before, a request waited seconds
# and was served; now it is 503 after about EKeyRedisTimeout and never served.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(sleep time);
use EKeyTest;
use EKeyInstance;

plan tests => 6;

my ($rport, $lport, $rdir, $rpid) = relayed_redis('trickle');
my $switch = "$rdir/trickle";                   # present: replies trickle
unlink $switch;

trickle_relay($lport, $rport, $switch);

my $inst = instance('trickle', server => "EKeyReplayStore redis\nEKeyRedisServer 127.0.0.1:$lport\n"
                                       . "EKeyRedisTimeout 300\nEKeyRedisPrefix trickle:");
ok t_cmp(instance_start($inst), 1, 'httpd on the relay started');
my $k = client_key();
sub spend { my ($t, $c) = token(key => $k); my ($st, $j) = instance_spend($inst, $t, $c, $k);
            return "$st " . ($j->{error} // 'ok') }
ok t_cmp(spend(), '200 ok', 'replies at full speed: served');
open(my $fh, '>', $switch) or die;
close $fh;
my $hits = instance_hits($inst);
my $t0 = time;
my $slow = spend();
my $took = time - $t0;
ok t_cmp($slow, '503 replay_store_unavailable', 'replies trickled a byte per 50 ms: 503');
ok t_cmp($took < 2 ? 'bounded' : "took $took s", 'bounded', 'within about EKeyRedisTimeout (300 ms)');
ok t_cmp(instance_hits($inst), $hits, 'and the backend was not reached');
unlink $switch;
sleep 1.2;                                       # past the reconnect hold-off
ok t_cmp(spend(), '200 ok', 'full speed again: served');
instance_stop($inst);
