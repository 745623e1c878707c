# A Redis reply lost after the script ran (EKEY_SPEC 12.2: an operation whose outcome is
# unknown counts as a consumed use, and the request is 503). A relay in front of our own
# redis-server passes everything, except that it drops the reply to the second command about
# one token and closes that client connection: Redis has counted the use, httpd never hears
# so. The module must not send the script again (that would count a second use, or see the
# proof's own jti as a replay): the request is 503, the token's next use is its third.
# Then Redis restarts while every child holds an idle connection: the first request after
# it must not be lost to a dead connection (found before anything is sent).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(sleep);
use EKeyTest;
use EKeyInstance;

plan tests => 8;

my ($rport, $lport, $rdir, $rpid) = relayed_redis('lost');

my $k = client_key();
my ($tv, $cv) = token(key => $k, claims => { cap => { action => 'POST:/payments', limit => 3 } });
my $victim = $cv->{trace};

# The relay: the second command about the victim's trace reaches Redis, its reply is read
# and thrown away, and httpd's connection is closed.
my $seen = 0;
relay_start($lport, $rport, sub {
    my ($r, $from_client, $buf, $fh, $other) = @_;
    if ($r->{keep}{$fh}) {                      # the lost reply: read and thrown away
        delete $r->{keep}{$fh};
        $r->{drop}->($fh);
        return;
    }
    return unless $other;
    syswrite($other, $buf);
    if ($from_client && index($buf, $victim) >= 0 && ++$seen == 2) {
        $r->{keep}{$other} = 1;                 # Redis runs it; httpd gets end of stream
        delete $r->{peer}{$other};
        $r->{drop}->($fh);
    }
});

my $inst = instance('lost', server => "EKeyReplayStore redis\nEKeyRedisServer 127.0.0.1:$lport\n"
                                    . "EKeyRedisTimeout 500\nEKeyRedisPrefix lost:");
ok t_cmp(instance_start($inst), 1, 'httpd on the relay started');

sub spend { my ($t, $c) = @_; my ($st, $j) = instance_spend($inst, $t, $c, $k);
            return "$st " . ($j->{error} // "left=" . ($j->{EKEY_USES_LEFT} // '?')) }
# a first token loads the script (NOSCRIPT, then EVAL): the victim's commands are one each
my ($tw, $cw) = token(key => $k);
ok t_cmp(spend($tw, $cw), '200 left=0', 'warm-up through the relay');
ok t_cmp(spend($tv, $cv), '200 left=2', 'first use');
ok t_cmp(spend($tv, $cv), '503 replay_store_unavailable', 'reply lost after the script ran: 503');
ok t_cmp(spend($tv, $cv), '200 left=0', 'the lost use stays counted: the next use is the third');
ok t_cmp(`redis-cli -h 127.0.0.1 -p $rport GET lost:t:$victim` =~ /^3$/ ? 3 : 'other', 3,
         'Redis counted three uses');

# every child gets an idle connection, then Redis restarts under them
spend(token(key => $k)) for 1 .. 12;
redis_stop($rpid);
$rpid = redis_start($rport, $rdir);
sleep 0.3;
my %got;
$got{ spend(token(key => $k)) }++ for 1 .. 12;
ok t_cmp(join(', ', map { "$_ x$got{$_}" } sort keys %got), '200 left=0 x12',
         'Redis restarted under idle connections: no request lost');
ok t_cmp(instance_stop($inst), 1, 'httpd stopped');
redis_stop($rpid);
