# Drops the paragraph macros scdoc emits where roff needs none (right after
# a section heading, or right before another block macro), so that the pages
# pass `mandoc -T lint` without warnings.
{ lines[NR] = $0 }
END {
  n = 0
  for (i = 1; i <= NR; i++) {
    if (lines[i] == ".P") {
      previous = n > 0 ? out[n] : ""
      following = i < NR ? lines[i + 1] : ""
      if (previous ~ /^\.(SH|SS|TH|P|RE)/ || following ~ /^\.(SH|SS|P|RE|RS|TP|IP|nf)/ || following == "") continue
    }
    out[++n] = lines[i]
  }
  for (i = 1; i <= n; i++) print out[i]
}
