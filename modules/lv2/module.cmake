# The LV2 adapter runs lilv (in the domain, or in the host when trusted).
target_link_libraries(pt_mod_lv2_builtin PRIVATE PkgConfig::LILV)
target_link_libraries(pt_lv2 PRIVATE PkgConfig::LILV)
list(APPEND module_links PkgConfig::LILV)
