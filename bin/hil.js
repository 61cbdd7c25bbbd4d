#!/usr/bin/env node
import { launch } from './launch.js';
import { main } from '../dist/tools/hil/cli.js';

launch(main);
