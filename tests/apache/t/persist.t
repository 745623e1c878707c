# Counts across restarts of the shm table (issue 4 acceptance; store.t covers the graceful
# restart): with EKeyReplayPersist On a used token stays used across a full stop and start
# (SIGTERM, the parent exits, a new parent starts), and so does a seen proof jti; a plain
# `-k restart` of the same parent keeps the counts without it; and, as documented, without
# it a full stop and start begins with an empty table (which shows the stop was a full one).
# A graceful restart with another EKeyReplayCapacity keeps every count too (the segment
# changes size, so the table's entries move over); a capacity too small for the live entries
# refuses to start instead of dropping one.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(plan ok);
use Apache::TestUtil qw(t_cmp);
use EKeyTest;
use EKeyInstance;

plan tests => 30;

sub code { my ($st, $j) = @_; return "$st " . ($j->{error} // $j->{EKEY_USES_LEFT} // '') }

my $on = instance('persist', server => 'EKeyReplayPersist On');
ok t_cmp(instance_start($on), 1, 'persist: started');
my $k = client_key();
my ($t1, $c1) = token(key => $k);
my ($t2, $c2) = token(key => $k, claims => { cap => { action => 'POST:/payments', limit => 2 } });
my ($t3, $c3) = token(key => $k, claims => { cap => { action => 'POST:/payments', limit => 3 } });
my $p3 = proof($k, 'POST', $on->{url}, $t3, $c3->{trace});
my $send3 = sub { my $r = send_req(url => $on->{url}, headers => [['Authorization' => "EKey $t3"], ['DPoP' => $p3]]);
                  return ($r->code, body_json($r)) };
my @before = (code(instance_spend($on, $t1, $c1, $k)), code(instance_spend($on, $t2, $c2, $k)),
              code($send3->()));
ok t_cmp("@before", '200 0 200 1 200 2', 'persist: limit 1, limit 2 and limit 3 tokens used once');

ok t_cmp(instance_stop($on), 1, 'persist: full stop (parent gone, port closed)');
ok t_cmp(instance_start($on), 1, 'persist: started again');
ok t_cmp(code(instance_spend($on, $t1, $c1, $k)), '401 replay_detected', 'persist: used limit-1 token refused after stop and start');
ok t_cmp(code($send3->()), '401 replay_detected', 'persist: a seen proof jti is refused after stop and start');
ok t_cmp(join(' ', code(instance_spend($on, $t2, $c2, $k)), code(instance_spend($on, $t2, $c2, $k))),
         '200 0 401 replay_detected', 'persist: limit-2 token has exactly its one use left');
ok t_cmp(scalar(grep { /EKEY00301: replay table restored .*persisted/ } instance_log($on, 'error_log')), 1,
         'persist: the log says the table was restored from the saved copy');

# -k restart (not graceful): the same parent, counts kept without EKeyReplayPersist.
my $off = instance('nopersist');
ok t_cmp(instance_start($off), 1, 'no persist: started');
my ($t4, $c4) = token(key => $k);
my $first = code(instance_spend($off, $t4, $c4, $k));
ok t_cmp(instance_ctl($off, 'restart'), 1, 'no persist: apache2 -k restart');
ok t_cmp("$first " . code(instance_spend($off, $t4, $c4, $k)), '200 0 401 replay_detected',
         'no persist: a used token stays used across a restart of the same parent');

# Without EKeyReplayPersist a new parent starts empty (documented; the control for the above).
ok t_cmp(instance_stop($off) && instance_start($off), 1, 'no persist: full stop and start');
ok t_cmp(code(instance_spend($off, $t4, $c4, $k)), '200 0',
         'no persist: a new parent does not trust the saved table (starts empty)');
ok t_cmp(instance_stop($on) && instance_stop($off), 1, 'both stopped');

sub set_capacity {
    my ($i, $n) = @_;
    open(my $in, '<', $i->{conf}) or die; my $c = do { local $/; <$in> }; close $in;
    $c =~ s/^EKeyReplayCapacity \d+$/EKeyReplayCapacity $n/m or die 'no capacity line';
    open(my $out, '>', $i->{conf}) or die; print $out $c; close $out;
}
my $rs = instance('resize', server => 'EKeyReplayCapacity 1000');
ok t_cmp(instance_start($rs), 1, 'resize: started with 1000 entries');
my ($t5, $c5) = token(key => $k);
my ($t6, $c6) = token(key => $k, claims => { cap => { action => 'POST:/payments', limit => 2 } });
my @used = (code(instance_spend($rs, $t5, $c5, $k)), code(instance_spend($rs, $t6, $c6, $k)));
spend_many($rs, 40);
set_capacity($rs, 5000);
ok t_cmp(join(' ', @used, instance_ctl($rs, 'graceful')), '200 0 200 1 1', 'resize: graceful restart to 5000 entries');
ok t_cmp(join(' ', code(instance_spend($rs, $t5, $c5, $k)), code(instance_spend($rs, $t6, $c6, $k)),
              code(instance_spend($rs, $t6, $c6, $k))),
         '401 replay_detected 200 0 401 replay_detected', 'resize: every count kept across the new capacity');
ok t_cmp(scalar(grep { /EKEY00310: replay table moved to 5000 entries/ } instance_log($rs, 'error_log')), 1,
         'resize: the log says the entries moved');
# 80-odd live entries (traces and proof jtis) cannot move into 16 slots: no start
set_capacity($rs, 16);
instance_ctl($rs, 'graceful');
ok t_cmp(scalar(grep { /EKEY00309: EKeyReplayCapacity 16 cannot take over/ } instance_log($rs, 'error_log')), 1,
         'resize: too small for the live entries: refused, and logged');
ok t_cmp(code(instance_spend($rs, $t6, $c6, $k)) =~ /^200/ ? 'served' : 'not served', 'not served',
         'resize: no server forgot the counts');
instance_stop($rs);

# With EKeyReplayPersist On, a full stop and a start with another capacity keeps them too.
my $rp = instance('resize-persist', server => "EKeyReplayPersist On\nEKeyReplayCapacity 1000");
ok t_cmp(instance_start($rp), 1, 'resize, persist: started with 1000 entries');
my ($t7, $c7) = token(key => $k);
my $u7 = code(instance_spend($rp, $t7, $c7, $k));
instance_stop($rp);
set_capacity($rp, 3000);
ok t_cmp(join(' ', $u7, instance_start($rp)), '200 0 1', 'resize, persist: stopped, started with 3000 entries');
ok t_cmp(code(instance_spend($rp, $t7, $c7, $k)), '401 replay_detected', 'resize, persist: the used token stays used');
instance_stop($rp);
# a damaged carry file: no start (never an empty table in its place), and a message naming it
set_capacity($rp, 2000);
{ open(my $fh, '>', "$rp->{dir}/ekey-replay.carry") or die; print $fh 'x' x 100; close $fh; }
ok t_cmp(instance_start($rp), 0, 'resize, persist: a damaged carry file stops the start');
ok t_cmp(scalar(grep { /EKEY00312: .*ekey-replay\.carry holds no usable replay table/ } instance_log($rp, 'error_log')), 1,
         'resize, persist: the log names the file');
# one that others may write is not trusted either: no start
chmod 0666, "$rp->{dir}/ekey-replay.carry";
ok t_cmp(instance_start($rp), 0, 'resize, persist: a carry file others may write stops the start');
ok t_cmp(scalar(grep { /EKEY00312: .*ekey-replay\.carry is not a readable regular file of httpd's user/ } instance_log($rp, 'error_log')), 1,
         'resize, persist: and the log says why');

# the carry file cannot be written at the stop (here a directory is in its place): logged,
# and the start with another capacity finds no usable file: refused, never an empty table
unlink "$rp->{dir}/ekey-replay.carry";
set_capacity($rp, 3000);
ok t_cmp(instance_start($rp), 1, 'resize, persist: started again with the capacity saved');
mkdir "$rp->{dir}/ekey-replay.carry" or die "mkdir: $!";
instance_stop($rp);
ok t_cmp(scalar(grep { /EKEY00311: cannot write .*ekey-replay\.carry/ } instance_log($rp, 'error_log')), 1,
         'resize, persist: a carry file that cannot be written is logged at the stop');
set_capacity($rp, 2000);
ok t_cmp(instance_start($rp), 0, 'resize, persist: and a start with another capacity is refused');
rmdir "$rp->{dir}/ekey-replay.carry";

sub spend_many { my ($i, $n) = @_; instance_spend($i, token(key => $k), $k) for 1 .. $n }
