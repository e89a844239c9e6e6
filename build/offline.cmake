# WAMR (built by the QuickJS backend of deno_core) fetches simde with a git
# clone. Point it at Debian's libsimde-dev headers so the build works offline.
if(EXISTS "/usr/include/simde/simde-common.h")
  set(FETCHCONTENT_SOURCE_DIR_SIMDE "/usr/include" CACHE PATH "" FORCE)
endif()
