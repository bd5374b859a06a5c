# The planner's recipe writer, embedded in the Dockerfile by `recipe.rs` as `perl -e '...'` on one logical line.
# So: whole-line comments only (they are dropped when embedded), no single quotes (spell them \x27), no heredocs,
# every statement ended by `;` or `}`. perl-base (part of every Debian image) is all it needs.
#
# Arguments: the `cargo metadata --no-deps` JSON, the context's directory, the workspace's directory, the recipe's
# directory, then the non-member path packages' directories (relative to the context, already copied whole into the
# recipe).
#
# Writes the recipe: every member manifest masked (versions 0.0.0, descriptions empty, [*.metadata] dropped, version
# requirements of path dependencies dropped), Cargo.lock with the members at 0.0.0 spelt as Cargo spells it, an
# empty source file for every target, the workspace's .cargo/config(.toml).
use strict;
use File::Path qw(make_path);
use File::Basename qw(dirname);
my ($metadata, $app, $ws, $recipe, @paths) = @ARGV;
sub slurp { local $/; open(my $f, "<", $_[0]) or return undef; my $t = <$f>; return $t; }
sub out { my ($rel, $text) = @_; my $p = "$recipe/$rel"; make_path(dirname($p)); open(my $o, ">", $p) or die "$p: $!"; print $o $text; close($o) or die "$p: $!"; }
sub rel { my $p = shift; $p =~ s{^\Q$app\E/}{}; return $p; }
#
# TOML, as far as manifests need it. `scan` reads one physical line in a state (bracket depth, open multi-line
# string) and gives the new state and the line without its comment, so a statement (one key = value, a table
# header) is the run of lines until brackets balance and strings close.
sub scan {
  my ($l, $depth, $ml) = @_; my ($i, $n, $kept) = (0, length($l), "");
  while ($i < $n) {
    my $c = substr($l, $i, 1);
    if ($ml ne "") {
      if ($ml eq "\"\"\"" && $c eq "\\") { $kept .= substr($l, $i, 2); $i += 2; next; }
      if (substr($l, $i, 3) eq $ml) { my $j = $i + 3; $j++ while $j < $n && $j < $i + 5 && substr($l, $j, 1) eq substr($ml, 0, 1); $kept .= substr($l, $i, $j - $i); $i = $j; $ml = ""; next; }
      $kept .= $c; $i++; next;
    }
    last if $c eq "#";
    my $three = substr($l, $i, 3);
    if ($three eq "\"\"\"" || $three eq "\x27\x27\x27") { $ml = $three; $kept .= $three; $i += 3; next; }
    if ($c eq "\"") { my $j = $i + 1; while ($j < $n) { my $d = substr($l, $j, 1); if ($d eq "\\") { $j += 2; next; } last if $d eq "\""; $j++; } $kept .= substr($l, $i, $j + 1 - $i); $i = $j + 1; next; }
    if ($c eq "\x27") { my $j = index($l, "\x27", $i + 1); $j = $n - 1 if $j < 0; $kept .= substr($l, $i, $j + 1 - $i); $i = $j + 1; next; }
    $depth++ if $c eq "[" || $c eq "{"; $depth-- if $c eq "]" || $c eq "}";
    $kept .= $c; $i++;
  }
  return ($depth, $ml, $kept);
}
sub statements {
  my ($depth, $ml, $cur, @s) = (0, "", undef);
  for my $l (split /\n/, shift) {
    $l =~ s/\r$//; my $inside = $ml ne "";
    ($depth, $ml, my $kept) = scan($l, $depth, $ml);
    $kept =~ s/\s+$// unless $ml ne "";
    if (defined $cur) { $cur .= "\n" . $kept; } elsif ($kept !~ /^\s*$/) { $cur = $kept; }
    if (defined $cur && $depth <= 0 && $ml eq "") { push @s, $cur; $cur = undef; $depth = 0; }
  }
  push @s, $cur if defined $cur;
  return @s;
}
# A key: bare, "basic" or \x27literal\x27. `kpath` splits a dotted key into its parts, unquoted.
my $K = qr/(?:"(?:[^"\\]|\\.)*"|\x27[^\x27]*\x27|[A-Za-z0-9_-]+)/;
sub kpath { my @k; for my $part ($_[0] =~ /\G\s*($K)\s*(?:\.|$)/g) { my $p = $part; $p =~ s/^"(.*)"$/$1/s or $p =~ s/^\x27(.*)\x27$/$1/s; push @k, $p; } return @k; }
# The top-level items of an inline table `{ a = 1, b = [2, 3] }`, trimmed.
sub items {
  my $t = shift; $t =~ s/^\s*\{//; $t =~ s/\}\s*$//; my ($depth, $cur, @items) = (0, "");
  while ($t =~ /\G("(?:[^"\\]|\\.)*"|\x27[^\x27]*\x27|[\[\{]|[\]\}]|,|[^"\x27\[\]\{\},]+)/g) {
    my $tok = $1; $depth++ if $tok eq "[" || $tok eq "{"; $depth-- if $tok eq "]" || $tok eq "}";
    if ($tok eq "," && $depth == 0) { push @items, $cur; $cur = ""; } else { $cur .= $tok; }
  }
  push @items, $cur; return grep { /\S/ } map { s/^\s+|\s+$//gr } @items;
}
sub item_key { my @k = kpath(($_[0] =~ /^($K(?:\s*\.\s*$K)*)\s*=/)[0] // ""); return $k[0] // ""; }
# Where a dependency entry starts in a key path: after [workspace.]dependencies, [dev-|build-]dependencies or
# target.<cfg>.<those>; -1 when the path is no dependency entry.
sub dep_at {
  my @p = @_; my $kind = qr/^(dependencies|dev-dependencies|dev_dependencies|build-dependencies|build_dependencies)$/;
  return 2 if @p > 2 && $p[0] eq "workspace" && $p[1] eq "dependencies";
  return 1 if @p > 1 && $p[0] =~ $kind;
  return 3 if @p > 3 && $p[0] eq "target" && $p[2] =~ $kind;
  return -1;
}
# One manifest, masked. `$member` is 0 for non-member path packages: only their path dependencies lose their
# version requirements. `$keep_version` keeps the package's version (members that patch a registry crate, whose
# version the patch must match, and non-members, whose versions Cargo.lock keeps). Returns the text and the paths
# of its `[patch]` entries.
sub manifest {
  my ($text, $member, $keep_version) = @_; my (@sec, @parsed, %has_path, @patches);
  for my $s (statements($text)) {
    if ($s =~ /^\s*\[\[?\s*(.*?)\s*\]\]?\s*$/s) { @sec = kpath($1); push @parsed, [$s, 1, [@sec]]; next; }
    my ($key, $value) = $s =~ /^\s*($K(?:\s*\.\s*$K)*)\s*=\s*(.*)$/s or do { push @parsed, [$s, 0, []]; next; };
    my @p = (@sec, kpath($key)); push @parsed, [$s, 0, \@p, $key, $value];
    my $at = dep_at(@p);
    if ($at > 0) {
      my $dep = join("\0", @p[0 .. $at]); my @rest = @p[$at + 1 .. $#p];
      $has_path{$dep} = 1 if (@rest == 1 && $rest[0] eq "path") || (!@rest && $value =~ /^\{/ && grep { item_key($_) eq "path" } items($value));
    }
    if ($p[0] eq "patch" && @p >= 3) {
      if (@p == 4 && $p[3] eq "path" && $value =~ /^"([^"]*)"$/) { push @patches, $1; }
      if (@p == 3 && $value =~ /^\{/) { for (items($value)) { push @patches, $1 if item_key($_) eq "path" && /=\s*"([^"]*)"$/; } }
    }
  }
  my ($skip, @o) = (0);
  for my $e (@parsed) {
    my ($s, $header, $p, $key, $value) = @$e; my @p = @$p; my $path = join(".", @p);
    if ($header) { $skip = $member && $path =~ /^(package|workspace)\.metadata(\.|$)/; push @o, $s unless $skip; next; }
    next if $skip;
    if (!defined $key) { push @o, $s; next; }
    if ($member) {
      next if $path =~ /^(package|workspace)\.metadata(\.|$)/;
      if (!$keep_version && $path =~ /^(workspace\.)?package\.version$/ && $value =~ /^["\x27]/) { push @o, "$key = \"0.0.0\""; next; }
      if ($path =~ /^(workspace\.)?package\.description$/) { push @o, "$key = \"\""; next; }
    }
    my $at = dep_at(@p);
    if ($at > 0 && $has_path{join("\0", @p[0 .. $at])}) {
      my @rest = @p[$at + 1 .. $#p];
      next if @rest == 1 && $rest[0] eq "version";
      if (!@rest && $value =~ /^\{/) { push @o, "$key = { " . join(", ", grep { item_key($_) ne "version" } items($value)) . " }"; next; }
    }
    push @o, $s;
  }
  return (join("\n", @o) . "\n", @patches);
}
#
# Cargo.lock with the members at 0.0.0, written as Cargo writes it: packages sorted by name, version and source
# kind; a dependency spelt `name` when the name is unique, `name version` when the version is, else
# `name version (source)` (a path package has no source to spell); each package's dependencies sorted by that
# spelling. Blocks are separated by one blank line, as Cargo separates them.
sub vcmp {
  my ($x, $y) = @_; my ($ac, $ap) = split /-/, ($x =~ s/\+.*//r), 2; my ($bc, $bp) = split /-/, ($y =~ s/\+.*//r), 2;
  my @a = split /\./, $ac; my @b = split /\./, $bc;
  for (0 .. 2) { my $c = ($a[$_] // 0) <=> ($b[$_] // 0); return $c if $c; }
  return 0 if !defined $ap && !defined $bp; return 1 if !defined $ap; return -1 if !defined $bp;
  my @u = split /\./, $ap; my @v = split /\./, $bp;
  for my $i (0 .. ($#u < $#v ? $#u : $#v)) {
    my ($u, $v) = ($u[$i], $v[$i]); my $c;
    if ($u =~ /^\d+$/ && $v =~ /^\d+$/) { $c = $u <=> $v; } elsif ($u =~ /^\d+$/) { $c = -1; } elsif ($v =~ /^\d+$/) { $c = 1; } else { $c = $u cmp $v; }
    return $c if $c;
  }
  return @u <=> @v;
}
sub kind { my $s = shift // ""; return 0 if $s eq ""; return 1 if $s =~ /^registry\+/; return 2 if $s =~ /^sparse\+/; return 3 if $s =~ /^local-registry\+/; return 4 if $s =~ /^directory\+/; return 5; }
sub lock {
  my ($text, $mask) = @_;
  return $text if $text =~ /^\[metadata\]/m;
  my @blocks = split /(?=^\[)/m, $text; my $head = $blocks[0] =~ /^\[/ ? "" : shift @blocks;
  my (@pkgs, @other, %new);
  for my $b (@blocks) {
    if ($b !~ /^\[\[package\]\]/) { push @other, $b; next; }
    my %p = (text => $b); ($p{name}) = $b =~ /^name = "([^"]*)"/m; ($p{version}) = $b =~ /^version = "([^"]*)"/m; ($p{source}) = $b =~ /^source = "([^"]*)"/m;
    $p{new} = (!defined $p{source} && $mask->{"$p{name} $p{version}"}) ? "0.0.0" : $p{version};
    push @pkgs, \%p; $new{$p{name}}{$p{new}}++;
  }
  return $text unless grep { $_->{new} ne $_->{version} } @pkgs;
  my $spell = sub {
    my ($ref) = @_; my ($n, $v, $s) = $ref =~ /^(\S+)(?: (\S+))?(?: \((.*)\))?$/ or return $ref;
    my @hit = grep { $_->{name} eq $n && (!defined $v || $_->{version} eq $v) && (!defined $s || ($_->{source} // "") =~ s/#.*//r eq $s) } @pkgs;
    @hit = grep { !defined $_->{source} } @hit if !defined $s && @hit > 1;
    return $ref unless @hit == 1; my $p = $hit[0];
    return $n if keys %{$new{$n}} == 1 && $new{$n}{$p->{new}} == 1;
    return "$n $p->{new}" if $new{$n}{$p->{new}} == 1;
    return "$n $p->{new} (" . ($s // ($p->{source} // "") =~ s/#.*//r) . ")";
  };
  for my $p (@pkgs) {
    $p->{text} =~ s/^version = "[^"]*"/version = "$p->{new}"/m;
    $p->{text} =~ s{^dependencies = \[\n((?: "[^"]*",\n)*)\]}{
      my @deps = map { $spell->($_) } ($1 =~ /^ "([^"]*)",$/mg);
      my @keyed = map { my ($n, $v, $s) = /^(\S+)(?: (\S+))?(?: \((.*)\))?$/; [$_, $n, $v // "", $s // ""] } @deps;
      "dependencies = [\n" . join("", map { " \"$_->[0]\",\n" } sort { $a->[1] cmp $b->[1] || $a->[2] cmp $b->[2] || $a->[3] cmp $b->[3] } @keyed) . "]"
    }me;
  }
  @pkgs = sort { $a->{name} cmp $b->{name} || vcmp($a->{new}, $b->{new}) || kind($a->{source}) <=> kind($b->{source}) || ($a->{source} // "") cmp ($b->{source} // "") } @pkgs;
  my @texts = map { s/\n+$//r } (map({ $_->{text} } @pkgs), @other);
  return $head . join("\n\n", @texts) . "\n";
}
#
# The members (name, version, manifest) from cargo metadata; the root manifest first, for its [patch] paths: a
# member that patches a registry crate keeps its version, or the patch would no longer apply.
my $meta = slurp($metadata) // die "$metadata: $!";
my (%manifests, %mask);
while ($meta =~ /"name":"([^"]+)","version":"([^"]*)","id":"[^"]*".*?"manifest_path":"([^"]+)"/g) { $manifests{$3} = "$1 $2"; }
my $root = slurp("$ws/Cargo.toml") // die "$ws/Cargo.toml: $!";
my (undef, @patched) = manifest($root, 1, 0);
my %patched = map { my $d = "$ws/$_"; 1 while $d =~ s{/\./|/[^/]+/\.\./}{/}; $d =~ s{/\.?$}{}; ("$d/Cargo.toml" => 1) } @patched;
for my $p (keys %manifests) { $mask{$manifests{$p}} = 1 unless $patched{$p}; }
for my $p (sort(keys %manifests), "$ws/Cargo.toml") {
  my $t = slurp($p); next unless defined $t;
  out(rel($p), (manifest($t, 1, $patched{$p}))[0]);
}
for my $d (@paths) { my $t = slurp("$app/$d/Cargo.toml"); out("$d/Cargo.toml", (manifest($t, 0, 1))[0]) if defined $t; }
while ($meta =~ /"src_path":"([^"]+)"/g) { out(rel($1), "#![allow(dead_code)]\nfn main() {}\n"); }
my $l = slurp("$ws/Cargo.lock"); out(rel("$ws/Cargo.lock"), lock($l, \%mask)) if defined $l;
for my $c (".cargo/config.toml", ".cargo/config") { my $t = slurp("$ws/$c"); out(rel("$ws/$c"), $t) if defined $t; }
