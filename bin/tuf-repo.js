#!/usr/bin/env node
import { launch } from './launch.js';
import { main } from '../dist/tools/tuf-repo/cli.js';

launch(main);
