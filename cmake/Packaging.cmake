# Packaging: what `cmake --install` puts where, the man pages, and the .deb.
#
# Included from the top-level CMakeLists.txt after the programs are defined.
# Paths are GNUInstallDirs' (relative to the prefix, /usr for the .deb):
#   bin/                              pgtrail-capture, pgtrail-replay, pgtrail-verify, pgtrail-erase
#   share/man/man1/                   one page per program, generated below
#                                     (gzipped in the .deb only)
#   share/doc/pgtrail/                README.md, docs/*.md
#   share/doc/pgtrail/examples/       pgtrail.conf.example
#   share/doc/pgtrail/copyright        deploy/debian/copyright (DEP-5; no license
#                                     has been chosen yet, and it says so)
#   share/doc/pgtrail/changelog.Debian.gz  generated below for PROJECT_VERSION
#   lib/systemd/system/               deploy/systemd/*.service, *.timer
# The example config goes to the doc examples directory, not to /etc: Debian
# packages ship examples there (dh_installexamples), and a file under /etc is a
# conffile dpkg tracks, which would prompt on every upgrade that adds a key,
# for a file nobody runs with. The units read /etc/pgtrail/pgtrail.conf, which
# the operator writes from the example. (With prefix /usr, GNUInstallDirs'
# sysconfdir would be /usr/etc anyway.)
#
# The .deb's maintainer scripts are deploy/debian/{postinst,prerm,postrm}:
# installing (and every `dpkg --configure`) creates, when missing, the system
# user and group pgtrail (capture's; home /var/lib/pgtrail, no login shell),
# the user pgtrail-verify (group pgtrail: reads the config and the anchor
# file, not the signing key), /etc/pgtrail
# (root:pgtrail 0750) and /var/lib/pgtrail (pgtrail:pgtrail 0750), and runs
# `systemctl daemon-reload` when systemd runs. No unit is enabled or started,
# on install or upgrade: capture needs /etc/pgtrail/pgtrail.conf first.
# Removing stops the units; purging deletes nothing the operator wrote
# (pgtrail.conf, the anchor file) and keeps the users, as Debian does.
# Upgrading restarts nothing: a running capture keeps the old program until
# the operator restarts it. The .deb's programs are stripped; cpack also makes
# pgtrail-dbgsym_VERSION_ARCH.ddeb with their debug symbols.
include(GNUInstallDirs)

set(PGTRAIL_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
  "where systemd units are installed, relative to the prefix (or absolute)")

install(TARGETS pgtrail-capture pgtrail-replay pgtrail-verify pgtrail-erase
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES config/pgtrail.conf.example DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY deploy/systemd/ DESTINATION ${PGTRAIL_SYSTEMD_UNITDIR}
  FILES_MATCHING PATTERN "*.service" PATTERN "*.timer")

# Man pages from each program's --help (which the config key table writes),
# so a new key is documented in the page at the next build.
set(_pt_man_pages "")
foreach(_prog pgtrail-capture pgtrail-replay pgtrail-verify pgtrail-erase)
  set(_page ${CMAKE_BINARY_DIR}/man/${_prog}.1)
  add_custom_command(OUTPUT ${_page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND sh ${CMAKE_SOURCE_DIR}/scripts/gen_man.sh $<TARGET_FILE:${_prog}> ${_page}
    DEPENDS ${_prog} ${CMAKE_SOURCE_DIR}/scripts/gen_man.sh
    COMMENT "Generating man page ${_prog}.1"
    VERBATIM)
  list(APPEND _pt_man_pages ${_page})
endforeach()
add_custom_target(man ALL DEPENDS ${_pt_man_pages})
install(FILES ${_pt_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# The .deb: `cpack -G DEB` in the build directory. Depends comes from
# dpkg-shlibdeps (libpq5, librdkafka1, libssl3, libmicrohttpd12, libc6, as
# linked), so it follows what the programs really link.
set(CPACK_PACKAGE_NAME pgtrail)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "pgtrail")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "change-data-capture sidecar for PostgreSQL with a hash-chained event log")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_NAME pgtrail)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "pgtrail maintainers <maintainers@users.noreply.r-seed-4038c3f3.example>"
  CACHE STRING "Maintainer field of the .deb")

# /usr/share/doc/pgtrail/changelog.Debian.gz, which Debian requires of every
# package: one entry for PROJECT_VERSION, so it always matches the .deb's
# Version. Its date is SOURCE_DATE_EPOCH when set (reproducible builds; CMake's
# string(TIMESTAMP) reads it), else the time cmake configured the build tree.
# gzip -9n: no name or time stamp in the .gz, as dh_compress does.
string(TIMESTAMP _pt_changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/debian/changelog.Debian
  CONTENT "pgtrail (${PROJECT_VERSION}) unstable; urgency=medium

  * pgtrail ${PROJECT_VERSION}, packaged by CPack (cmake/Packaging.cmake).

 -- ${CPACK_DEBIAN_PACKAGE_MAINTAINER}  ${_pt_changelog_date}
")
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/debian/changelog.Debian.gz
  COMMAND gzip -9nkf ${CMAKE_BINARY_DIR}/debian/changelog.Debian
  DEPENDS ${CMAKE_BINARY_DIR}/debian/changelog.Debian
  COMMENT "Generating changelog.Debian.gz"
  VERBATIM)
add_custom_target(debian-changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/debian/changelog.Debian.gz)
install(FILES deploy/debian/copyright ${CMAKE_BINARY_DIR}/debian/changelog.Debian.gz
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# the long description; CPack puts the summary above it as the synopsis line
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "pgtrail-capture streams every committed row change of a PostgreSQL database
(logical decoding, wal2json) into a hash-chained event table and to Kafka;
pgtrail-replay rebuilds tables from the log up to any point in time;
pgtrail-verify checks that the log is complete and unaltered.")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# the maintainer scripts (see the top of this file and each script's comment);
# strict permissions: 0755 for the scripts, as dpkg expects
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
  ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
  ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The maintainer scripts create the user with adduser, or groupadd/useradd
# (package passwd) where adduser is absent: one of them must be configured first.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser | passwd")
# Stripped programs in the .deb, their debug symbols in pgtrail-dbgsym_*.ddeb
# (found by build ID, as Debian's -dbgsym packages); cmake --install keeps them.
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
# Man pages gzipped in the .deb (Debian policy 12.1; dh_compress does it), by a
# script CPack runs on its staging tree; cmake --install leaves them plain.
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/debian/cpack_prebuild.cmake CONTENT [=[
file(GLOB_RECURSE _pages "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*/share/man/man1/*.1")
if(NOT _pages)
  message(FATAL_ERROR "no man pages under ${CPACK_TEMPORARY_INSTALL_DIRECTORY} to compress")
endif()
foreach(_page IN LISTS _pages)
  execute_process(COMMAND gzip -9nf "${_page}" COMMAND_ERROR_IS_FATAL ANY)
endforeach()
]=] @ONLY)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_BINARY_DIR}/debian/cpack_prebuild.cmake)
set(CPACK_GENERATOR DEB)
include(CPack)
