#include "cli/sshd_check.h"

#include <boost/test/unit_test.hpp>

#include "temp_dir.h"

namespace otp::cli {
namespace {

std::map<std::string, std::string> debian_defaults() {
  return {{"usepam", "yes"}, {"kbdinteractiveauthentication", "no"}, {"passwordauthentication", "yes"},
          {"authenticationmethods", "any"}};
}

std::string warnings(const Problems& problems) {
  std::string all;
  for (const auto& p : problems.list()) all += p.to_string() + "\n";
  return all;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sshd_check)

BOOST_AUTO_TEST_CASE(finds_pam_otp_through_includes) {
  testing::TempDir dir;
  dir.write("common-auth", "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n"
                           "auth required pam_permit.so\n# auth required pam_otp.so commented out\n");
  dir.write("sshd", "@include common-auth\nauth required /lib/security/pam_otp.so attempts=5 [a b]\n");
  const auto found = find_pam_otp(dir.path(), "sshd");
  BOOST_REQUIRE(found.has_value());
  BOOST_TEST(found->file == dir.path() + "/sshd");
  BOOST_TEST(found->line == 2);
  BOOST_TEST(found->args == "attempts=5 [a b]");
  BOOST_TEST(found->module == "/lib/security/pam_otp.so");
  BOOST_TEST(found->after_password);
  dir.write("sshd", "auth required pam_otp.so require_ssh_methods=[\"publickey\"]\nauth required pam_permit.so\n");
  const auto alone = find_pam_otp(dir.path(), "sshd");
  BOOST_REQUIRE(alone.has_value());
  BOOST_TEST(!alone->after_password);
  BOOST_TEST(alone->module == "pam_otp.so");
  dir.write("sshd", "@include common-auth\n");
  BOOST_TEST(!find_pam_otp(dir.path(), "sshd").has_value());
  dir.write("common-auth", "auth substack common-auth\n");  // a loop ends
  BOOST_TEST(!find_pam_otp(dir.path(), "sshd").has_value());
  BOOST_TEST(!find_pam_otp(dir.path(), "missing").has_value());
}

// pam-otp enable asks before it adds pam_otp to common-auth: where would
// sshd reach it then?
BOOST_AUTO_TEST_CASE(common_auth_stands_in_for_the_line_enable_adds) {
  testing::TempDir dir;
  dir.write("common-auth", "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n");
  dir.write("sshd", "# comment\n@include common-auth\naccount required pam_nologin.so\n");
  BOOST_TEST(!find_pam_otp(dir.path(), "sshd").has_value());
  const auto future = find_pam_otp(dir.path(), "sshd", "common-auth");
  BOOST_REQUIRE(future.has_value());
  BOOST_TEST(future->file == dir.path() + "/sshd");
  BOOST_TEST(future->line == 2);
  BOOST_TEST(future->after_password);
  dir.write("sshd", "auth required pam_permit.so\n");  // a stack without common-auth is not affected
  BOOST_TEST(!find_pam_otp(dir.path(), "sshd", "common-auth").has_value());
}

BOOST_AUTO_TEST_CASE(password_method_with_pam_otp_is_flagged) {
  Problems problems;
  check_sshd_settings(debian_defaults(), PamOtpLine{"/etc/pam.d/sshd", 3, "", true, "pam_otp.so"}, "/etc/ssh/sshd_config", problems);
  const std::string all = warnings(problems);
  BOOST_TEST(all.find("key 'PasswordAuthentication'") != std::string::npos, all);
  BOOST_TEST(all.find("/etc/pam.d/sshd:3 reaches pam_otp") != std::string::npos, all);
  BOOST_TEST(all.find("key 'KbdInteractiveAuthentication'") != std::string::npos, all);
  BOOST_TEST(!problems.has_errors());
}

BOOST_AUTO_TEST_CASE(the_shipped_recipes_pass) {
  Problems password;
  check_sshd_settings({{"usepam", "yes"}, {"kbdinteractiveauthentication", "yes"}, {"passwordauthentication", "no"},
                       {"authenticationmethods", "keyboard-interactive"}},
                      PamOtpLine{"/etc/pam.d/sshd", 3, "", true, "pam_otp.so"}, "/etc/ssh/sshd_config", password);
  BOOST_TEST(password.list().empty(), warnings(password));
  Problems key;
  check_sshd_settings({{"usepam", "yes"}, {"kbdinteractiveauthentication", "yes"}, {"passwordauthentication", "no"},
                       {"authenticationmethods", "publickey,keyboard-interactive"}},
                      PamOtpLine{"/etc/pam.d/sshd", 12, "require_ssh_methods=[\"publickey\"]", false, "pam_otp.so"},
                      "/etc/ssh/sshd_config", key);
  BOOST_TEST(key.list().empty(), warnings(key));
}

BOOST_AUTO_TEST_CASE(public_key_stack_without_its_safeguards) {
  Problems problems;
  check_sshd_settings({{"usepam", "yes"}, {"kbdinteractiveauthentication", "yes"}, {"passwordauthentication", "no"},
                       {"authenticationmethods", "any"}},
                      PamOtpLine{"/etc/pam.d/sshd", 12, "", false, "pam_otp.so"}, "/etc/ssh/sshd_config", problems);
  const std::string all = warnings(problems);
  BOOST_TEST(all.find("key 'AuthenticationMethods': is 'any'") != std::string::npos, all);
  BOOST_TEST(all.find("key 'require_ssh_methods'") != std::string::npos, all);
  Problems mixed;
  check_sshd_settings({{"usepam", "yes"}, {"kbdinteractiveauthentication", "yes"}, {"passwordauthentication", "no"},
                       {"authenticationmethods", "publickey,keyboard-interactive keyboard-interactive"}},
                      PamOtpLine{"/etc/pam.d/sshd", 12, "require_ssh_methods=[\"publickey\"]", false, "pam_otp.so"},
                      "/etc/ssh/sshd_config", mixed);
  BOOST_TEST(warnings(mixed).find("AuthenticationMethods") != std::string::npos, warnings(mixed));
}

// sshd replaces every keyboard-interactive answer of root with its
// INCORRECT marker unless PermitRootLogin is yes: root's code never arrives.
BOOST_AUTO_TEST_CASE(root_whose_answers_sshd_fakes) {
  auto settings = [](const std::string& permit) {
    return std::map<std::string, std::string>{{"usepam", "yes"}, {"kbdinteractiveauthentication", "yes"},
                                              {"passwordauthentication", "no"},
                                              {"authenticationmethods", "keyboard-interactive"},
                                              {"permitrootlogin", permit}};
  };
  const PamOtpLine line{"/etc/pam.d/sshd", 3, "", true, "pam_otp.so"};
  for (const char* permit : {"without-password", "forced-commands-only"}) {  // as sshd -T prints them
    Problems asked;
    check_sshd_settings(settings(permit), line, "/etc/ssh/sshd_config", asked, SshdUse{true, false});
    const std::string shown = permit == std::string("without-password") ? "prohibit-password" : permit;
    BOOST_TEST(warnings(asked).find("key 'PermitRootLogin': is '" + shown +
                                    "': sshd replaces every keyboard-interactive answer of root") != std::string::npos,
               warnings(asked));
  }
  for (const char* permit : {"yes", "no"}) {  // answers kept; root cannot log in at all
    Problems fine;
    check_sshd_settings(settings(permit), line, "/etc/ssh/sshd_config", fine, SshdUse{true, false});
    BOOST_TEST(fine.list().empty(), warnings(fine));
  }
  Problems not_asked;  // root is not asked for a code through sshd
  check_sshd_settings(settings("prohibit-password"), line, "/etc/ssh/sshd_config", not_asked, SshdUse{false, false});
  BOOST_TEST(not_asked.list().empty(), warnings(not_asked));
}

// With UseDNS yes PAM_RHOST is a name the client's DNS chooses.
BOOST_AUTO_TEST_CASE(use_dns_where_rhost_rules_apply) {
  std::map<std::string, std::string> settings{{"usepam", "yes"}, {"kbdinteractiveauthentication", "yes"},
                                              {"passwordauthentication", "no"},
                                              {"authenticationmethods", "keyboard-interactive"}, {"usedns", "yes"}};
  const PamOtpLine line{"/etc/pam.d/sshd", 3, "", true, "pam_otp.so"};
  Problems rules;
  check_sshd_settings(settings, line, "/etc/ssh/sshd_config", rules, SshdUse{false, true});
  BOOST_TEST(warnings(rules).find("key 'UseDNS': is 'yes'") != std::string::npos, warnings(rules));
  Problems none;
  check_sshd_settings(settings, line, "/etc/ssh/sshd_config", none, SshdUse{false, false});
  BOOST_TEST(none.list().empty(), warnings(none));
  settings["usedns"] = "no";
  Problems off;
  check_sshd_settings(settings, line, "/etc/ssh/sshd_config", off, SshdUse{false, true});
  BOOST_TEST(off.list().empty(), warnings(off));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace otp::cli
