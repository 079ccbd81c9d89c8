# Warnings and hardening flags shared by every target of the project.
add_library(pam_otp_flags INTERFACE)
target_compile_options(pam_otp_flags INTERFACE
  -Wall -Wextra -Wshadow $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor> -Wformat=2
  -fstack-protector-strong -fvisibility=hidden
  $<$<BOOL:${PAM_OTP_WERROR}>:-Werror>)
# _FORTIFY_SOURCE needs optimisation; Debug builds get -O1 below so it always applies.
target_compile_definitions(pam_otp_flags INTERFACE _FORTIFY_SOURCE=2 _GLIBCXX_ASSERTIONS)
target_compile_options(pam_otp_flags INTERFACE $<$<CONFIG:Debug>:-O1>)
target_link_options(pam_otp_flags INTERFACE -Wl,-z,relro -Wl,-z,now -Wl,--as-needed)

if(PAM_OTP_SANITIZE)
  target_compile_options(pam_otp_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(pam_otp_flags INTERFACE -fsanitize=address,undefined)
endif()

if(PAM_OTP_FUZZ)
  target_compile_options(pam_otp_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined)
  target_link_options(pam_otp_flags INTERFACE -fsanitize=address,undefined)
endif()
