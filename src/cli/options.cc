#include <unistd.h>

#include "cli/commands.h"
#include "cli/try_out.h"

namespace otp::cli {
namespace {

// On the command line a relative --config is the administrator's, relative
// to the shell's directory; the module takes absolute paths only.
std::string absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  std::string dir(4096, '\0');
  if (::getcwd(dir.data(), dir.size()) == nullptr) return path;
  return std::string(dir.c_str()) + "/" + path;
}

}  // namespace

bool take_common_options(std::vector<std::string>& args, CommonOptions& options, std::ostream& err) {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      options.help = true;
    } else if (a == "--config" || a == "--arg") {
      if (i + 1 >= args.size()) {
        err << "pam-otp: " << a << " needs a value\n";
        return false;
      }
      const std::string& value = args[++i];
      if (a == "--config") options.module_args.insert(options.module_args.begin(), "config=" + absolute(value));
      else options.module_args.push_back(value);
    } else if (a.rfind("--config=", 0) == 0) {
      options.module_args.insert(options.module_args.begin(), "config=" + absolute(a.substr(9)));
    } else {
      rest.push_back(a);
    }
  }
  args = std::move(rest);
  return true;
}

std::unique_ptr<config::Loaded> load_or_report(const std::vector<std::string>& module_args, std::ostream& err) {
  Problems problems;
  auto loaded = config::load(module_args, problems);
  if (!loaded) {
    for (const auto& p : problems.list()) err << p.to_string() << "\n";
    if (mentions_try_out(problems)) explain_try_out(err);
  }
  return loaded;
}

}  // namespace otp::cli
