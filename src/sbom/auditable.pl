# The builder's dependency-section writer, embedded in the Dockerfile by `auditable.rs` as `perl -e '...'` on one
# logical line. So: whole-line comments only (they are dropped when embedded), no single quotes (spell them \x27),
# no heredocs, every statement ended by `;` or `}`. perl-base and gzip (both in every Debian image) are all it needs.
#
# Reads, on standard input, `cargo tree -e normal,build --target <triple> --charset ascii -f {p}|{f}` of the
# builder's `cargo build` (its -p packages and features); writes, for each root package, into the directory given
# as the argument: <package>.json, cargo-auditable's VersionInfo (format 1) of the crates that build compiles for
# the package, and <package>.dep-v0, the same zlib-compressed: the content of the `.dep-v0` section.
# It reads the tree as `src/workspace/crates.rs` does on the host, and writes the bytes `auditable.rs` writes
# (`tests/sbom.rs` compares them).
use strict;
my ($dir) = @ARGV;
my (%index, @nodes, @edges, @roots, @stack, @section);
while (my $line = <STDIN>) {
  chomp $line;
  my ($prefix, $text) = $line =~ /^([|`\- ]*)(.*)$/;
  my $depth = int(length($prefix) / 4);
  next if $text eq "";
  if ($text =~ /^\[(.*)\]/) { $#section = $depth; $section[$depth] = ($1 =~ /^build-dependencies/) ? 1 : 0; next; }
  $text =~ s/\s+$//;
  my $repeated = ($text =~ s/\s*\(\*\)$//) ? 1 : 0;
  my ($package) = split(/\|/, $text, 2);
  my ($name, $version, $rest) = $package =~ /^(\S+) v(\S+)(.*)$/ or next;
  my ($pm, $src) = (0, "");
  for my $group ($rest =~ /\(([^)]*)\)/g) { if ($group eq "proc-macro") { $pm = 1; } else { $src = $group; } }
  pop(@stack) while @stack && $stack[-1][0] >= $depth;
  $#section = $depth - 1;
  my $build = ($depth > 0 && $section[$depth - 1]) ? 1 : 0;
  my $parent = @stack ? $stack[-1] : undef;
  my $host = (($parent && $parent->[2]) || $build || $pm) ? 1 : 0;
  my $node = $index{"$text\t$host"};
  $node = $index{"$text\t" . (1 - $host)} if !defined($node) && $repeated;
  if (!defined($node)) { push(@nodes, [$name, $version, $src, $pm, $host]); $node = $#nodes; $index{"$text\t$host"} = $node; $edges[$node] = {}; }
  if ($parent) { $edges[$parent->[1]]{$node} = 1; } else { push(@roots, $node); }
  push(@stack, [$depth, $node, $host]) unless $repeated;
}
die "no package in the output of cargo tree\n" unless @roots;
# The order of sources where name and version are the same: crates.io, another registry, git, local.
sub kind { my $s = shift; return $s eq "" ? 0 : $s =~ m{^/} ? 3 : $s =~ /^registry / ? 1 : 2; }
sub source { my $k = kind(shift); return ("crates.io", "registry", "git", "local")[$k]; }
sub quoted { my $s = shift; $s =~ s/(["\\])/\\$1/g; return "\"$s\""; }
for my $root (@roots) {
  my (%reached, %crate);
  my @todo = ($root);
  while (@todo) { my $n = pop(@todo); next if $reached{$n}++; push(@todo, keys %{$edges[$n]}); }
  for my $n (keys %reached) {
    my ($name, $version, $src, $pm, $host) = @{$nodes[$n]};
    my $c = ($crate{"$name\t$version\t$src"} ||= { name => $name, version => $version, src => $src, build => 1, root => 0, deps => {} });
    $c->{build} = 0 unless $host;
    $c->{root} = 1 if $n == $root;
  }
  my @ids = sort { $crate{$a}{name} cmp $crate{$b}{name} || $crate{$a}{version} cmp $crate{$b}{version} || kind($crate{$a}{src}) <=> kind($crate{$b}{src}) || $crate{$a}{src} cmp $crate{$b}{src} } keys %crate;
  my %at; @at{@ids} = (0 .. $#ids);
  for my $n (keys %reached) {
    my ($name, $version, $src) = @{$nodes[$n]};
    for my $child (keys %{$edges[$n]}) { my ($cn, $cv, $cs) = @{$nodes[$child]}; $crate{"$name\t$version\t$src"}{deps}{$at{"$cn\t$cv\t$cs"}} = 1; }
  }
  my @packages;
  for my $id (@ids) {
    my $c = $crate{$id};
    my $json = "{\"name\":" . quoted($c->{name}) . ",\"version\":" . quoted($c->{version}) . ",\"source\":" . quoted(source($c->{src}));
    $json .= ",\"kind\":\"build\"" if $c->{build};
    my @deps = sort { $a <=> $b } keys %{$c->{deps}};
    $json .= ",\"dependencies\":[" . join(",", @deps) . "]" if @deps;
    $json .= ",\"root\":true" if $c->{root};
    push(@packages, $json . "}");
  }
  my $name = $nodes[$root][0];
  my $text = "{\"packages\":[" . join(",", @packages) . "],\"format\":1}";
  open(my $out, ">", "$dir/$name.json") or die "$dir/$name.json: $!"; print $out $text; close($out) or die "$dir/$name.json: $!";
  open(my $gz, "-|", "gzip", "-9nc", "$dir/$name.json") or die "gzip: $!"; binmode($gz); local $/; my $deflated = <$gz>; close($gz) or die "gzip failed";
  my ($s1, $s2) = (1, 0);
  for my $byte (unpack("C*", $text)) { $s1 = ($s1 + $byte) % 65521; $s2 = ($s2 + $s1) % 65521; }
  open(my $z, ">", "$dir/$name.dep-v0") or die "$dir/$name.dep-v0: $!"; binmode($z);
  print $z "\x78\xda" . substr($deflated, 10, length($deflated) - 18) . pack("N", ($s2 << 16) | $s1); close($z) or die "$dir/$name.dep-v0: $!";
}
