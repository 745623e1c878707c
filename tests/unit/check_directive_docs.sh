#!/bin/sh
# Every directive in the modules' command tables (AP_INIT_* entries of mod_ekey.c and
# src/httpd/*.c, whichever file a directive is added to) has a section in docs/directives.md:
# a "## Name" heading followed, before the next heading, by the Syntax (starting with the
# name), Default, Context and Module lines and an ```apache example. A "## EKey..." section
# for a directive no table has fails too: the reference never documents what the code lacks.
top=${EKEY_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
doc=${EKEY_DIRECTIVE_DOC:-$top/docs/directives.md}
exec perl -e '
use strict;
use warnings;
my ($doc, @src) = @ARGV;
my (%code, @fail);
for my $f (@src) {
    open(my $fh, "<", $f) or die "$f: $!";
    my $text = do { local $/; <$fh> };
    $code{$1} = $f while $text =~ /\bAP_INIT_[A-Z0-9_]+\s*\(\s*"([^"]+)"/g;
}
# the two tables together hold dozens of directives: finding few means a broken scan
if (keys(%code) < 30) {
    print "check_directive_docs: only ", scalar(keys %code), " directives found in @src\n";
    print "0 passed, 1 failed\n";
    exit 1;
}
open(my $fh, "<", $doc) or do { print "check_directive_docs: $doc: $!\n0 passed, 1 failed\n"; exit 1 };
my (%sec, $cur, $fence);
while (my $l = <$fh>) {
    $fence = !$fence if $l =~ /^```/;
    if (!$fence && $l =~ /^#{1,6}\s/) {
        $cur = $l =~ /^##\s+(\S+)\s*$/ ? $1 : undef;
        $sec{$cur} .= "" if defined $cur;
        next;
    }
    $sec{$cur} .= $l if defined $cur;
}
for my $d (sort keys %code) {
    my $s = $sec{$d};
    if (!defined $s) { push @fail, "$d ($code{$d}): no \"## $d\" section"; next }
    my @miss;
    push @miss, "Syntax" unless $s =~ /^- \*\*Syntax:\*\* `\Q$d\E(?:[ `])/m;
    push @miss, $_ for grep { $s !~ /^- \*\*$_:\*\* \S/m } qw(Default Context Module);
    push @miss, "Module naming mod_ekey*" unless $s =~ /^- \*\*Module:\*\* mod_ekey(?:_issuer)?\s*$/m;
    push @miss, "an example (```apache block)" unless $s =~ /^```apache\n.*\b\Q$d\E\b/ms;
    push @fail, "$d: the section lacks " . join(", ", @miss) if @miss;
}
for my $h (sort grep { /^EKey/ && !$code{$_} } keys %sec) {
    push @fail, "$h: documented, but no command table defines it";
}
print "check_directive_docs: $_\n" for @fail;
printf "check_directive_docs: %d directives, %d documented\n", scalar(keys %code),
    scalar(keys %code) - scalar(grep { !/documented, but/ } @fail);
printf "%d passed, %d failed\n", @fail ? 0 : 1, @fail ? 1 : 0;
exit(@fail ? 1 : 0);
' "$doc" "$top/mod_ekey.c" "$top"/src/httpd/*.c
